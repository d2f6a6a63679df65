/** The rule types of the deep-decoding table (see views.ts) and the helpers that build rules. */
import type { DescMessage, Message } from '@bufbuild/protobuf';
import { WireError } from '../base/errors.js';

export type Key = string | number;
/** The type of an opaque field: a schema (shown through its default view), a specific view, or null (plain bytes). */
export type Target = DescMessage | View | null;
export type OpaqueRule = { readonly kind: 'opaque'; readonly target: (msg: Message, key: Key) => Target };
export type DynamicRule = { readonly kind: 'dynamic'; readonly view: (msg: Message, key: Key) => View };
export type FieldRule = OpaqueRule | DynamicRule;

export interface View {
  readonly schema: DescMessage;
  /** Special fields by their proto (snake_case) name. */
  readonly fields?: Readonly<Record<string, FieldRule>>;
}

/** A message protolator cannot decode (unknown config key, policy type, ...): configtxlator fails too. */
export class UndecodableError extends WireError {
  constructor(message: string) {
    super('UNDECODABLE', message);
  }
}

export const fail = (message: string): never => {
  throw new UndecodableError(message);
};
export const opaque = (target: OpaqueRule['target']): OpaqueRule => ({ kind: 'opaque', target });
export const fixed = (schema: DescMessage): OpaqueRule => opaque(() => schema);
export const dynamic = (view: DynamicRule['view']): DynamicRule => ({ kind: 'dynamic', view });
