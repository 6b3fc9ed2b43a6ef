"""Offline stand-in for the get-pip.py script ansible-test downloads to bootstrap its venvs.

ansible-test fetches ``get-pip-<version>.py`` from a host these machines cannot reach and caches it
as ``~/.ansible/test/cache/get_pip_<version>.py`` (``<version>`` with dots as underscores).
scripts/test places this file there. ansible-test runs it as
``python get_pip.py --disable-pip-version-check pip==X --no-setuptools --no-wheel`` inside a fresh
venv; we install pip with ensurepip, then let that pip install the requested packages from the
package index pip is configured for (its --no-setuptools/--no-wheel options belong to get-pip only).
"""

import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def main():
    # ensurepip drops every PIP_* variable and points PIP_CONFIG_FILE at /dev/null; the install
    # below must see the machine's pip configuration (index, certificates) again.
    environ = dict(os.environ)
    ensurepip.bootstrap(upgrade=True)
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    if any(not arg.startswith("-") for arg in args):
        subprocess.check_call([sys.executable, "-m", "pip", "install"] + args, env=environ)


if __name__ == "__main__":
    main()
