"""A TCP proxy that can cut the line: a database (or any server) that becomes unreachable for a while, then returns.

`cut()` closes every open connection and refuses new ones (accepted, then closed at once, as a dead network path
or a restarting server looks to a client); `restore()` forwards again. `reset_answers_after(size, times)` resets
the next `times` connections whose answers grow beyond `size` bytes in the middle of the answer (a connection
reset mid-download). Ephemeral port, one thread per connection.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading


class TcpProxy:
    """Forwards 127.0.0.1:<port> to `upstream` (host, port) until cut."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._cut = False
        self._closed = False
        self._reset_after = 0
        self._resets_left = 0
        self.resets = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        with self._lock:
            self._cut = True
            sockets, self._open = self._open, set()
        for sock in sockets:
            _close(sock)

    def reset_answers_after(self, size: int, times: int) -> None:
        """Reset the next `times` connections mid-answer once they have sent `size` bytes back."""
        with self._lock:
            self._reset_after, self._resets_left = size, times

    def _should_reset(self, sent: int) -> bool:
        with self._lock:
            if self._resets_left > 0 and sent > self._reset_after:
                self._resets_left -= 1
                self.resets += 1
                return True
        return False

    def restore(self) -> None:
        """Forward again."""
        with self._lock:
            self._cut = False

    def close(self) -> None:
        self._closed = True
        self.cut()
        _close(self._listener)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refused = self._cut
            if refused:
                _close(client)
                continue
            threading.Thread(target=self._pair, args=(client,), daemon=True).start()

    def _pair(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _close(client)
            return
        server.settimeout(None)
        with self._lock:
            if self._cut:
                _close(client)
                _close(server)
                return
            self._open.update((client, server))
        threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()
        self._pump(client, server, False)

    def _pump(self, source: socket.socket, target: socket.socket, answers: bool) -> None:
        sent = 0
        try:
            while data := source.recv(16384):
                if answers and self._should_reset(sent + len(data)):
                    target.sendall(data[: min(max(self._reset_after - sent, 1), len(data) - 1)])  # part of it
                    target.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # then RST
                    break
                target.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            _close(source)
            _close(target)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
