"""Opens N keep-alive TLS connections to 127.0.0.1:PORT, sends one request on
each, then holds them open until killed. Prints "ready N" once they are up."""
import socket, ssl, sys, time

port, count = int(sys.argv[1]), int(sys.argv[2])
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
request = b"GET /items/42?q=hello HTTP/1.1\r\nHost: localhost\r\n\r\n"
held = []
for _ in range(count):
    try:
        raw = socket.create_connection(("127.0.0.1", port))
        conn = context.wrap_socket(raw, server_hostname="localhost")
        conn.sendall(request)
        conn.recv(4096)
        held.append(conn)
    except OSError:
        break
print(f"ready {len(held)}", flush=True)
while True:
    time.sleep(60)
