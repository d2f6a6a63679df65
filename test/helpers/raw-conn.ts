/**
 * A raw TCP connection to 127.0.0.1:`port` that sends nothing (an idle or hostile client of the
 * connection-limit tests). The socket joins `track` for the test file's cleanup; `closed()` turns
 * true once the server closed it (resolves after connect, or at once if refused).
 */
import { connect as netConnect, type Socket } from 'node:net';

export async function rawConn(
  port: number,
  track: Socket[],
): Promise<{ socket: Socket; closed: () => boolean }> {
  const socket = netConnect({ host: '127.0.0.1', port });
  track.push(socket);
  let closed = false;
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  socket.resume(); // read (and drop) whatever comes, so the server's FIN is seen
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('close', resolve);
  });
  return { socket, closed: () => closed };
}
