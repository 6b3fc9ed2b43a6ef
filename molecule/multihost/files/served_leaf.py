"""What a client is served as the server certificate: the leaf of sslyze's JSON output (argument 1).

Prints a JSON object of the properties verify checks (basic constraints, names, key usages, lifetime),
read with python cryptography from the certificate as it was served, not from the file on the host.
"""
import json
import sys

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID


def extension(certificate, kind):
    try:
        return certificate.extensions.get_extension_for_class(kind)
    except x509.ExtensionNotFound:
        return None


def main(path):
    with open(path) as handle:
        scan = json.load(handle)
    deployment = scan['server_scan_results'][0]['scan_result']['certificate_info']['result']['certificate_deployments'][0]
    leaf = x509.load_pem_x509_certificate(deployment['received_certificate_chain'][0]['as_pem'].encode())
    constraints = extension(leaf, x509.BasicConstraints)
    names = extension(leaf, x509.SubjectAlternativeName)
    usage = extension(leaf, x509.KeyUsage)
    extended = extension(leaf, x509.ExtendedKeyUsage)
    print(json.dumps({
        'chain_length': len(deployment['received_certificate_chain']),
        'basic_constraints': None if constraints is None else {'ca': constraints.value.ca, 'critical': constraints.critical},
        'dns_names': [] if names is None else names.value.get_values_for_type(x509.DNSName),
        'ip_addresses': [] if names is None else [str(a) for a in names.value.get_values_for_type(x509.IPAddress)],
        'key_usage': None if usage is None else {
            'critical': usage.critical,
            'digital_signature': usage.value.digital_signature,
            'key_cert_sign': usage.value.key_cert_sign,
        },
        'extended_key_usage': [] if extended is None else [
            'serverAuth' if oid == ExtendedKeyUsageOID.SERVER_AUTH else oid.dotted_string for oid in extended.value],
        'lifetime_days': (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days,
        'ocsp_stapled': deployment.get('ocsp_response') is not None,
    }))


if __name__ == '__main__':
    main(sys.argv[1])
