"""What every stand-in partner system (province, 12345, 成效管理系统) does to listen: a thread per request,
`PORT <n>` printed once it listens (tests read it), serving until interrupted. No Django here."""

import sys
from http.server import ThreadingHTTPServer


def listen(host: str, port: int, handler, out=sys.stdout) -> None:
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", file=out, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
