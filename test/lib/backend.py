"""A tiny HTTP backend for FlexLB tests: answers every GET with its own name, so tests can see the
balancing. Usage: backend.py NAME PORT [ADDRESS]. Exits on SIGTERM."""
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = (sys.argv[1] + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer((sys.argv[3] if len(sys.argv) > 3 else "0.0.0.0", int(sys.argv[2])), Handler)
server.daemon_threads = True
server.serve_forever()
