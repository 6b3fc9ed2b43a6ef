# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a given certificate and private key can serve TLS, read on the controller before any change."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes

# cryptography is imported on first use: Ansible loads every filter file of the collection in each task's worker
# process to find a filter of it by name, and the import would cost every such task about 8 ms.


def tls_pair_problems(certificate, private_key, certificate_name='certificate', key_name='private key'):
    """What keeps the PEM ``certificate`` (the leaf first, then its chain) and ``private_key`` from serving
    TLS, as sentences that start with the variable's name (``certificate_name``, ``key_name``); empty when
    they parse and the key is the certificate's. Never quotes the key."""
    try:
        from cryptography import x509
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives import serialization
    except ImportError:  # pragma: no cover - ansible-core requires cryptography
        raise AnsibleFilterError('tls_pair_problems needs the Python library cryptography on the controller')
    public = dict(encoding=serialization.Encoding.DER, format=serialization.PublicFormat.SubjectPublicKeyInfo)
    problems = []
    leaf = key = None
    try:
        leaf = x509.load_pem_x509_certificates(to_bytes(certificate))[0]
    except (ValueError, TypeError, IndexError) as error:
        problems.append('%s: not a readable PEM certificate (%s)' % (certificate_name, error))
    try:
        key = serialization.load_pem_private_key(to_bytes(private_key), password=None)
    except TypeError:
        problems.append('%s: the private key is encrypted; nginx needs it without a passphrase' % key_name)
    except (ValueError, UnsupportedAlgorithm):
        problems.append('%s: not a readable PEM private key' % key_name)
    if leaf is not None and key is not None:
        if key.public_key().public_bytes(**public) != leaf.public_key().public_bytes(**public):
            problems.append('%s: the private key does not belong to the certificate in %s (the first one, the leaf)'
                            % (key_name, certificate_name))
    return problems


class FilterModule(object):
    def filters(self):
        return {'tls_pair_problems': tls_pair_problems}
