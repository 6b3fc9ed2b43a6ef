# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for tls_pair_problems: a certificate and key that cannot serve TLS are refused by name."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ansible.plugins.loader import filter_loader
from ansible_collections.webops.tornado.plugins.filter.tls import tls_pair_problems

NAMES = ('nginx_tls_certificate', 'nginx_tls_certificate_key')


def key_pem(key, password=None):
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()


def certificate_pem(key, issuer_key=None, name='shop.example'):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
                   .sign(issuer_key or key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope='module', params=['ec', 'rsa'])
def pair(request):
    key = ec.generate_private_key(ec.SECP256R1()) if request.param == 'ec' else rsa.generate_private_key(65537, 2048)
    return certificate_pem(key), key_pem(key), key


def test_a_matching_pair_has_no_problem(pair):
    certificate, key = pair[:2]
    assert tls_pair_problems(certificate, key, *NAMES) == []


def test_a_chain_is_read_by_its_leaf(pair):
    certificate, key = pair[:2]
    intermediate = certificate_pem(ec.generate_private_key(ec.SECP256R1()), name='intermediate')
    assert tls_pair_problems(certificate + intermediate, key, *NAMES) == []
    problems = tls_pair_problems(intermediate + certificate, key, *NAMES)
    assert len(problems) == 1 and problems[0].startswith('nginx_tls_certificate_key: the private key does not belong')


def test_a_key_of_another_certificate_is_named(pair):
    certificate = pair[0]
    other = key_pem(ec.generate_private_key(ec.SECP256R1()))
    problems = tls_pair_problems(certificate, other, *NAMES)
    assert problems == ['nginx_tls_certificate_key: the private key does not belong to the certificate in '
                        'nginx_tls_certificate (the first one, the leaf)']
    assert other.splitlines()[1] not in ' '.join(problems)


@pytest.mark.parametrize('certificate', [
    '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n',
    '',
    'not PEM at all',
    '-----BEGIN PRIVATE KEY-----\nMIIBfake\n-----END PRIVATE KEY-----\n',
])
def test_a_certificate_that_does_not_parse_is_named(pair, certificate):
    key = pair[1]
    problems = tls_pair_problems(certificate, key, *NAMES)
    assert len(problems) == 1 and problems[0].startswith('nginx_tls_certificate: not a readable PEM certificate')


@pytest.mark.parametrize('key', ['-----BEGIN PRIVATE KEY-----\nMIIBfake\n-----END PRIVATE KEY-----\n', '', 'x'])
def test_a_key_that_does_not_parse_is_named_and_not_quoted(pair, key):
    certificate = pair[0]
    problems = tls_pair_problems(certificate, key, *NAMES)
    assert problems == ['nginx_tls_certificate_key: not a readable PEM private key']


def test_an_encrypted_key_is_named(pair):
    certificate, key = pair[0], pair[2]
    problems = tls_pair_problems(certificate, key_pem(key, b'secret'), *NAMES)
    assert problems == ['nginx_tls_certificate_key: the private key is encrypted; nginx needs it without a passphrase']


def test_the_filter_is_found_by_its_fqcn():
    assert filter_loader.get('webops.tornado.tls_pair_problems') is not None
