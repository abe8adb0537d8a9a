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
        if self.close_connection:
            # Say so when the client asked to close (wrk counts a silent close as a read error).
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: under load (wrk with Connection: close) SYNs
    # would be dropped and retried after 1 s, which looks like a load-balancer fault.
    request_queue_size = 1024
    daemon_threads = True


server = Server((sys.argv[3] if len(sys.argv) > 3 else "0.0.0.0", int(sys.argv[2])), Handler)
server.serve_forever()
