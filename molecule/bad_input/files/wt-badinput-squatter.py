# The before-activate hook of verify.yml's nginx-port-taken-before-the-reload case (copied into the source
# with a hook): takes port 9011 for good before the hook returns, then frees it as soon as the live site is
# put back on its previous port, as a program that lets a port go while nginx still tries to bind it would.
# nginx must not take the refused config then: the role waits until nginx gave it up before putting the
# previous one back.
import os
import socket
import time

SITE = '/etc/nginx/sites-available/demo.conf'

held = socket.socket()
held.bind(('0.0.0.0', 9011))
held.listen()
if os.fork():
    os._exit(0)
moved = False
for _tick in range(6000):  # 5 minutes at most
    with open(SITE) as handle:
        on_9011 = 'listen 9011 ' in handle.read()
    if on_9011:
        moved = True
    elif moved:
        break
    time.sleep(0.05)
