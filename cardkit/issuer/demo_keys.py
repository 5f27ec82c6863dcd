"""The published DEMO issuer keys of cardkit: for demo and test cards only, never for real cards.

Everything here is public (docs/issuer.md, "Demo keys"): anyone can make or read a card made from
these keys, so a card personalized with them proves nothing. The RSA keys are fixed so that a
demo card made on one machine verifies on any other; the CA public key is in the default CAPK
list of the kernel under RID A000000333, index F1 (a cardkit-only test index).
"""

from __future__ import annotations

from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from cardkit.crypto.oda import Capk, RsaPublic, make_issuer_certificate
from cardkit.issuer.keys import IssuerKeys

__all__ = [
    "DEMO_CAPK_INDEX",
    "DEMO_CARD_MANAGER_KMC",
    "DEMO_IMK_AC",
    "DEMO_IMK_SMC",
    "DEMO_IMK_SMI",
    "DEMO_PAN",
    "DEMO_PURSE_MLK",
    "DEMO_PURSE_MPK",
    "DEMO_PURSE_MTK",
    "DEMO_SOCIAL_MAK",
    "DEMO_SOCIAL_MPK",
    "DEMO_SOCIAL_MTK",
    "DEMO_SOCIAL_MUK",
    "DEMO_RID",
    "DEMO_ZPK",
    "demo_ca_rsa_key",
    "demo_capk",
    "demo_csca",
    "demo_document_signer",
    "demo_issuer",
    "demo_issuer_rsa_key",
]

DEMO_RID = bytes.fromhex("A000000333")
DEMO_CAPK_INDEX = 0xF1

# Issuer master keys (3DES, 16 bytes). The AC key is the IMK of pyemv's published test vectors.
DEMO_IMK_AC = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
DEMO_IMK_SMI = bytes.fromhex("89ABCDEF0123456776543210FEDCBA98")
DEMO_IMK_SMC = bytes.fromhex("FEDCBA98765432100123456789ABCDEF")

# Card manager master key (AES-128): each demo card's SCP03 keys are diversified from it and the
# card's diversification data (EMV CPS style, cardkit.gp.diversify_emv). Public like the rest.
DEMO_CARD_MANAGER_KMC = bytes.fromhex("4B4D434B4D434B4D0000000000000021")

# Zone PIN key shared by the demo terminal and the demo host (online PIN blocks, ISO 9564 format 0
# enciphered with 3DES-ECB). Published like the rest: a PIN block under it is readable by anyone.
DEMO_ZPK = bytes.fromhex("0E1F2C3D4A5B68798697A4B5C2D3E0F1")

# Purse (transit) issuer master keys, 16 bytes each: load (MLK), purchase (MPK), TAC (MTK). TEST
# keys: each card's DLK/DPK/DTK is diversified from them by its serial (cardkit.crypto.purse), and
# the demo PSAM and host hold these masters, so anyone can load or forge a demo purse.
DEMO_PURSE_MLK = bytes.fromhex("4C4B4C4B4C4B4C4B0000000000000001")
DEMO_PURSE_MPK = bytes.fromhex("504B504B504B504B0000000000000002")
DEMO_PURSE_MTK = bytes.fromhex("544B544B544B544B0000000000000003")

# Social insurance issuer master keys, 16 bytes each: terminal authentication (MAK), medical
# purchase (MPK), TAC (MTK) and PIN unblock (MUK). TEST keys: each card's DAK/DPK/DTK/DUK is
# diversified from them by its card number, and the demo SAM and issuer hold these masters.
DEMO_SOCIAL_MAK = bytes.fromhex("53414B4153414B410000000000000011")
DEMO_SOCIAL_MPK = bytes.fromhex("53504B53504B53500000000000000012")
DEMO_SOCIAL_MTK = bytes.fromhex("53544B53544B53540000000000000013")
DEMO_SOCIAL_MUK = bytes.fromhex("53554B53554B53550000000000000014")

DEMO_ISSUER_ID = "622848"  # the BIN the demo issuer certificate is valid for
DEMO_PAN = "6228480000000000018"  # Luhn-valid demo card number under that BIN
DEMO_ISSUER_CERT_EXPIRY = "1249"  # MMYY
DEMO_ISSUER_CERT_SERIAL = bytes.fromhex("000001")

DEMO_CA_KEY_PEM = """\
-----BEGIN PRIVATE KEY-----
MIIDTQIBADANBgkqhkiG9w0BAQEFAASCAzcwggMzAgEAAoGxAJ5W7okRWYkk0FrO
eve82tGErk5Gz58BU98vzp9xqbYu1Pm5ur1Ikzn9UPhspi+4F2tcmV4JmNnh4v5b
yS38WmO91lFX5S67z9ltM8nIcOeBe30/vkWHMlvQGdp+MhRJcjB7tMFR0PKhgm5k
umGmdfGpOSV+nxvH3q2//WNqoC5Lk+XBSOYsu0HTxTclzIKSl9vWQUH/2h/1atos
v1rsESrBads6bdzqQet+DK51CBNfAgEDAoGwaY9JsLY7sMM1kd78pSiR4QMe3tnf
v1Y36h/fFPZxJB84pnvR04W3e/41+vMZdSVk8j27lAZl5paXVD0wyVLm7Sk5i4/u
Hyff5kjNMTBLRQD8/ip+2QTMPCi0kMfHFng7BgD9c0l/jUD5xolsYMpYETOaStCE
VuljuI3wMGWD8B5yy0wOFsuCGZ0HCMFR9F2gAimO/UAy0f709xuBtpXJskRsr7lf
1ZnsEUwgsAQUTksCWQDSPPqpkvfcROPZuHtYO8V6B28FV9yKCCbODE8bGk0utgxd
lXdTdo6CI7irt6oFImkD6ttCLYjz3uoJ4ECVmmmrZ/XXG6tWhdQMbrhwK83w4lz9
n8P2EvEHAlkAwM4GqPR6uNTDoIAZC1XZRgRVkT/z7OmxDcVmKr5MOxMMjX+jfuO3
m8P8I3wZ9lWyZE/OwaQLEkjujgqFifN7S5NxrGEdtNzLTlgbNDJOkn10jjvieNas
6QJZAIwopxu3T+gt7TvQUjrSg6avn1jlPbFaxIldihIRiMnOsukOT4z5tFbCex0l
HANsRgKckiweW00/RrFAKw5m8Rzv+ToScjmujV2fJaAdM/XsPf5qgqQMoK8CWQCA
iVnF+FHQjdfAVWYHjpDZWDkLf/fzRnYJLkQcft18t12zqmz/Qnpn1/1s/WakOSGY
NTSBGAdhhfResa5b96eHt6EdlhPN6IeJkBIizDRhqPhe0pb7OcibAlhmPBVyiNKx
JcBN5xNveXeI6pXPv+/kKrrkdMiZxjIW0EaFVVGo2NMJe/I3JwwyfQ4/KF6SMWuc
teiP4j9UviPPuaZUXbHCX891o+w83wniP4if6av4FVub
-----END PRIVATE KEY-----
"""

DEMO_ISSUER_KEY_PEM = """\
-----BEGIN PRIVATE KEY-----
MIICvQIBADANBgkqhkiG9w0BAQEFAASCAqcwggKjAgEAAoGRAKWLNXOrhoMKFxE5
Y/TsFzLtRUepddAlBvnxoVISaIFYoaCJeFyCkGDT16m7/MpJIGUwP7b5jd3Fpab6
9qSygcF4DAzJJ2+DV53hkcBGP0g9296OLvfspHzmN4TfJ+hPcYKTZEA+pIL+SBsh
aYNC6+cY5ZbNovpaFzyM6qx+6KBPmrymK2cdKyCevQ8PzF3rTwIBAwKBkG5czk0d
BFdcD2DQ7U3yuiHzg4Ubo+AYr1FLwOFhmwDlwRWw+uhXCus35RvSqIbbau4gKnn7
s+kubm9R+cMhq9ZQCAiGGkpXjquXJfnlnpFxC/V03zjWs6sKkNFVA/iUTHmN2E79
pfjjPpVlEao2iiLv6Ny1HgQB5aFmbH/sanX6CN29puMEG1eNoTyzSB2XCwJJANra
sgppLqHm+uEL1tV4eOkULC2PYJftlqeil4mXPbvIJliYD8vQfrzoVThCfJ9WjR19
aIzFu20Dpr99q946MntpBvvdoKIKmQJJAMGkJr8EoswtTw1TCU0yHhNCMh1QQVuD
aCScCEAq7dHhQ+JxvzggnfXIsxN7eVUAsaz131/WjYJU5rCMBTRcz6HhRDglP49+
JwJJAJHnIVxGHxaZ/JYH5I5QUJtiyB5flbqeZG/Bulu6KSfaxDsQCofgVH3wONAs
UxTkXhOo8F3ZJ54CbypTx+l8IaebWf0+axaxuwJJAIEYGdStwd1zigjiBjN2vreB
dr41gOes8BhoBYAcnovrgpb2f3rAaU6FzLenpjirIR35P5U5s6w4mcsIA3g938FA
2CVuKl+pbwJIG+qa4fHIrbf59ypivvfoCVQfW7DZWom4FNVSdMr6xM5SMvBCU5ZY
adGp9Y0pq6bfeDouS71/vt2IYoSKlEJPfVhHZ4abm3mK
-----END PRIVATE KEY-----
"""


def _load(pem: str) -> rsa.RSAPrivateKey:
    key = load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@cache
def demo_ca_rsa_key() -> rsa.RSAPrivateKey:
    """The demo TEST CA's RSA key (it certified the demo issuer key)."""
    return _load(DEMO_CA_KEY_PEM)


@cache
def demo_capk() -> Capk:
    """The demo CA public key, as a terminal's CAPK list holds it."""
    public = RsaPublic.of(_load(DEMO_CA_KEY_PEM))
    return Capk(DEMO_RID, DEMO_CAPK_INDEX, public.modulus, public.exponent)


@cache
def demo_issuer_rsa_key() -> rsa.RSAPrivateKey:
    """The demo issuer's RSA key (1152 bits, exponent 3)."""
    return _load(DEMO_ISSUER_KEY_PEM)


@cache
def demo_issuer() -> IssuerKeys:
    """The demo issuer: master keys, RSA key and its certificate from the demo CA."""
    issuer_key = demo_issuer_rsa_key()
    certificate = make_issuer_certificate(
        _load(DEMO_CA_KEY_PEM),
        issuer_key,
        issuer_id=DEMO_ISSUER_ID,
        expiry=DEMO_ISSUER_CERT_EXPIRY,
        serial=DEMO_ISSUER_CERT_SERIAL,
    )
    return IssuerKeys(
        imk_ac=DEMO_IMK_AC,
        imk_smi=DEMO_IMK_SMI,
        imk_smc=DEMO_IMK_SMC,
        rsa_key=issuer_key,
        certificate=certificate,
        capk=demo_capk(),
    )


# -- ID application PKI (ICAO 9303-12): TEST country signing CA and document signer ------------------
# ECDSA P-256, generated once with cryptography and pasted here. CSCA valid 2024-01-01..2040-01-01
# (self-signed, CA, pathlen 0, keyCertSign|cRLSign); document signer 2025-01-01..2035-01-01, issued by
# the CSCA (digitalSignature). PUBLIC TEST keys: anyone can sign a SOD that verifies under this CSCA.
DEMO_CSCA_KEY_PEM = """\
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgJI/9p6XbWE6s/oWc
TP84513HQYH4F5SvT7F8QY/t99+hRANCAAQ8FoJFYi62ER9nfr/DHTt9ggEX9NuD
32MvkqvzpGOWqqCCB53qLDvd38rDPLTiSm4HRLCe9e2lE4+JC4oJ9J2K
-----END PRIVATE KEY-----
"""

DEMO_CSCA_CERT_PEM = """\
-----BEGIN CERTIFICATE-----
MIIB5zCCAY2gAwIBAgICEAEwCgYIKoZIzj0EAwIwWTELMAkGA1UEBhMCQ04xFTAT
BgNVBAoMDGNhcmRraXQgVEVTVDEzMDEGA1UEAwwqY2FyZGtpdCBURVNUIENTQ0Eg
KG5vdCBmb3IgcmVhbCBkb2N1bWVudHMpMB4XDTI0MDEwMTAwMDAwMFoXDTQwMDEw
MTAwMDAwMFowWTELMAkGA1UEBhMCQ04xFTATBgNVBAoMDGNhcmRraXQgVEVTVDEz
MDEGA1UEAwwqY2FyZGtpdCBURVNUIENTQ0EgKG5vdCBmb3IgcmVhbCBkb2N1bWVu
dHMpMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEPBaCRWIuthEfZ36/wx07fYIB
F/Tbg99jL5Kr86Rjlqqggged6iw73d/Kwzy04kpuB0SwnvXtpROPiQuKCfSdiqNF
MEMwEgYDVR0TAQH/BAgwBgEB/wIBADAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYE
FAfmEVwYBN6gY2sbOMEUI37uLNrSMAoGCCqGSM49BAMCA0gAMEUCIF+uJWv4hJ1f
QoQqE/IPT6s6ruH9ggeqvQ8NmmJl3xk6AiEAiX8F3zHVZbb2LvPTN9Ss6YIrrJzf
S0EIqRMJZkkiLCk=
-----END CERTIFICATE-----
"""

DEMO_DS_KEY_PEM = """\
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgtSYOYsjqkzVN46k7
QQ1/4Xq+dJKQh46HGY6ZxwFwhRqhRANCAASgXKuaZdwk/jcG1oYpsYeNeyloCvy+
t79ti5bD+nwNywFbKRMPk8SymQe1eK04wlT4qh7rydlRx/mcjeqfE0pX
-----END PRIVATE KEY-----
"""

DEMO_DS_CERT_PEM = """\
-----BEGIN CERTIFICATE-----
MIIB6jCCAY+gAwIBAgICIAEwCgYIKoZIzj0EAwIwWTELMAkGA1UEBhMCQ04xFTAT
BgNVBAoMDGNhcmRraXQgVEVTVDEzMDEGA1UEAwwqY2FyZGtpdCBURVNUIENTQ0Eg
KG5vdCBmb3IgcmVhbCBkb2N1bWVudHMpMB4XDTI1MDEwMTAwMDAwMFoXDTM1MDEw
MTAwMDAwMFowTjELMAkGA1UEBhMCQ04xFTATBgNVBAoMDGNhcmRraXQgVEVTVDEo
MCYGA1UEAwwfY2FyZGtpdCBURVNUIERvY3VtZW50IFNpZ25lciAwMTBZMBMGByqG
SM49AgEGCCqGSM49AwEHA0IABKBcq5pl3CT+NwbWhimxh417KWgK/L63v22LlsP6
fA3LAVspEw+TxLKZB7V4rTjCVPiqHuvJ2VHH+ZyN6p8TSlejUjBQMA4GA1UdDwEB
/wQEAwIHgDAfBgNVHSMEGDAWgBQH5hFcGATeoGNrGzjBFCN+7iza0jAdBgNVHQ4E
FgQUCp99mYuW2mmKo296N38neDkFikcwCgYIKoZIzj0EAwIDSQAwRgIhAJyr2sr6
qxMVQrkmtMFuvQE1qdn8zoOAkjdgfVJT4LJzAiEAyjEadJsmxrHvYX/uxRjdxyql
USVeiFrCH7C8pg29fNo=
-----END CERTIFICATE-----
"""


def _ec_pair(key_pem: str, cert_pem: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = load_pem_private_key(key_pem.encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key, x509.load_pem_x509_certificate(cert_pem.encode())


@cache
def demo_csca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """The TEST country signing CA of the ID application: (private key, self-signed certificate)."""
    return _ec_pair(DEMO_CSCA_KEY_PEM, DEMO_CSCA_CERT_PEM)


@cache
def demo_document_signer() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """The TEST document signer (signs EF.SOD): (private key, certificate issued by :func:`demo_csca`)."""
    return _ec_pair(DEMO_DS_KEY_PEM, DEMO_DS_CERT_PEM)
