"""Card-side fakes for the GlobalPlatform client tests.

* :class:`ScriptedCard` answers a fixed transcript and fails the test on any other command: the
  client's wire bytes are compared byte for byte (pySim's SCP03/SCP02 sessions).
* :class:`FakeIsd` is a small issuer security domain written from the spec independently of the
  client (it shares only the KAT-tested primitives of ``cardkit.crypto.gp``): SELECT, GET DATA,
  INITIALIZE UPDATE / EXTERNAL AUTHENTICATE for SCP03 and SCP02, checking every C-MAC and
  deciphering C-DEC, R-MAC / R-ENC on answers, GET STATUS with 6310 paging, PUT KEY (deciphers
  the keys and answers their KCVs), DELETE, INSTALL, STORE DATA, SET STATUS. It records each
  command as the applet saw it (unwrapped) in ``plain``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cardkit import tlv
from cardkit.apdu import CommandAPDU
from cardkit.cardaids import ISD_AID
from cardkit.crypto import gp as scp
from cardkit.crypto.hazmat.ciphers import AES, TripleDES
from cardkit.crypto.hazmat.keys import kcv as des_kcv
from cardkit.crypto.hazmat.padding import pad_method_2, unpad_method_2
from cardkit.errors import CryptoError
from cardkit.gp import StaticKeys

H = bytes.fromhex
ATR = H("3B8880010000000000000000")


class ScriptedCard:
    """Answers ``script`` — (expected command, response) pairs in order — and nothing else."""

    def __init__(self, script: list[tuple[bytes, bytes]]) -> None:
        self.script = list(script)
        self.sent: list[bytes] = []

    atr = ATR

    def power_on(self) -> bytes:
        return ATR

    def reset(self) -> bytes:
        return ATR

    def power_off(self) -> None:
        pass

    def transmit(self, capdu: bytes) -> bytes:
        self.sent.append(capdu)
        assert self.script, f"unexpected command {capdu.hex().upper()} after the end of the script"
        want, answer = self.script.pop(0)
        assert capdu.hex().upper() == want.hex().upper(), f"command {len(self.sent)}"
        return answer


def aes_kcv(key: bytes) -> bytes:
    return AES(key).encrypt_ecb(b"\x01" * 16)[:3]


@dataclass
class Entry:
    scope: int
    aid: bytes
    state: int
    privileges: bytes = b"\x00"
    modules: tuple[bytes, ...] = ()

    def tlv(self) -> bytes:
        body = tlv.build(0x4F, self.aid) + tlv.build(0x9F70, bytes((self.state,))) + tlv.build(0xC5, self.privileges)
        body += b"".join(tlv.build(0x84, m) for m in self.modules)
        return tlv.build(0xE3, body)

    def legacy(self) -> bytes:
        out = bytes((len(self.aid),)) + self.aid + bytes((self.state,)) + self.privileges[:1]
        if self.scope == 0x10:
            out += bytes((len(self.modules),)) + b"".join(bytes((len(m),)) + m for m in self.modules)
        return out


@dataclass
class FakeIsd:
    scp_version: int = 3
    i: int = 0x70
    key_sets: dict[int, StaticKeys] = field(default_factory=lambda: {0x30: StaticKeys.default(0x30)})
    card_challenge: bytes = H("0102030405060708")
    sequence: int = 0
    page: int = 2  # GET STATUS entries per answer before 6310
    tag_format: bool = True
    # openjavacard-tools GPLifeCycleTest.java CPLC_BYTES without its 9F7F 2A header
    cplc: bytes = H("479050384791007833003332A0B1C2D3ABCD4812333900000000060F2032A0B1C2D30000000000000000")
    life_cycle: int = 0x0F
    entries: list[Entry] = field(default_factory=list)
    lie_about_kcv: bool = False
    plain: list[CommandAPDU] = field(default_factory=list)
    stored: list[tuple[int, int, bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.selected = False
        self.level = -1  # -1: no session; else the security level after EXTERNAL AUTHENTICATE
        self._pending: tuple[int, bytes, bytes] | None = None  # (kvn, host challenge, card challenge)
        self._keys: StaticKeys | None = None
        self._sk: dict[str, bytes] = {}
        self._mcv = bytes(16)
        self._counter = 0
        self._last_mac: bytes | None = None
        self.auth_failures = 0
        if not self.entries:
            self.entries = [Entry(0x80, ISD_AID, self.life_cycle, H("9EFE80"))]

    # ------------------------------------------------------------------------ CardLike
    atr = ATR

    def power_on(self) -> bytes:
        self.selected = False
        self.level = -1
        return ATR

    def reset(self) -> bytes:
        return self.power_on()

    def power_off(self) -> None:
        self.level = -1

    def transmit(self, capdu: bytes) -> bytes:
        try:
            cmd = CommandAPDU.parse(capdu)
        except Exception:
            return H("6700")
        if cmd.cla & 0x04:
            unwrapped = self._unwrap(cmd)
            if unwrapped is None:
                self.level = -1
                return H("6982")
            cmd = unwrapped
        elif self.level > 0 and cmd.ins not in (0xA4, 0x50, 0xCA):
            self.level = -1
            return H("6982")
        self.plain.append(cmd)
        data, sw = self._process(cmd)
        return self._protect(data, sw) + sw.to_bytes(2, "big")

    # ------------------------------------------------------------------------ SM, card side
    def _unwrap(self, cmd: CommandAPDU) -> CommandAPDU | None:
        if cmd.ins == 0x82:
            return cmd  # EXTERNAL AUTHENTICATE checks its own MAC
        if self.level < 1 or len(cmd.data) < 8:
            return None
        body, mac = cmd.data[:-8], cmd.data[-8:]
        header = bytes((cmd.cla, cmd.ins, cmd.p1, cmd.p2))
        if self.scp_version == 3:
            self._counter += 1
            want, mcv = scp.scp03_command_mac(self._sk["mac"], self._mcv, header, body)
            if want != mac:
                return None
            self._mcv = mcv
            if self.level & 0x02 and body:
                icv = AES(self._sk["enc"]).encrypt_ecb(self._counter.to_bytes(16, "big"))
                try:
                    body = unpad_method_2(AES(self._sk["enc"]).decrypt_cbc(body, icv), 16)
                except CryptoError:
                    return None
        else:
            if self.level & 0x02 and body:
                try:
                    body = unpad_method_2(TripleDES(self._sk["enc"]).decrypt_cbc(body), 8)
                except CryptoError:
                    return None
            assert self._last_mac is not None
            icv = scp.scp02_next_icv(self._sk["mac"], self._last_mac)
            want = scp.scp02_command_mac(self._sk["mac"], icv, header, body)
            if want != mac:
                return None
            self._last_mac = want
        return CommandAPDU(cmd.cla & 0xFB, cmd.ins, cmd.p1, cmd.p2, body, cmd.le)

    def _protect(self, data: bytes, sw: int) -> bytes:
        if self.level < 0 or not self.level & 0x10 or (sw != 0x9000 and sw >> 8 not in (0x62, 0x63)):
            return data
        if self.level & 0x20 and data:
            icv = AES(self._sk["enc"]).encrypt_ecb(b"\x80" + self._counter.to_bytes(16, "big")[1:])
            data = AES(self._sk["enc"]).encrypt_cbc(pad_method_2(data, 16), icv)
        return data + scp.scp03_response_mac(self._sk["rmac"], self._mcv, data, sw.to_bytes(2, "big"))

    # ------------------------------------------------------------------------ commands
    def _process(self, cmd: CommandAPDU) -> tuple[bytes, int]:
        if cmd.ins == 0xA4:
            if cmd.data != ISD_AID:
                return b"", 0x6A82
            self.selected, self.level = True, -1
            fci = tlv.build(0x6F, tlv.build(0x84, ISD_AID) + tlv.build(0xA5, tlv.build(0x9F65, b"\xff")))
            return fci, 0x6283 if self.life_cycle == 0x7F else 0x9000
        if not self.selected:
            return b"", 0x6D00
        handler = {0xCA: self._get_data, 0x50: self._initialize_update, 0x82: self._external_authenticate}.get(cmd.ins)
        if handler is not None:
            return handler(cmd)
        if self.level < 0:
            return b"", 0x6982
        handler = {0xF2: self._get_status, 0xD8: self._put_key, 0xE4: self._delete, 0xE6: self._install,
                   0xE2: self._store_data, 0xF0: self._set_status}.get(cmd.ins)
        return handler(cmd) if handler else (b"", 0x6D00)

    def _get_data(self, cmd: CommandAPDU) -> tuple[bytes, int]:
        tag = cmd.p1 << 8 | cmd.p2
        if tag == 0x9F7F:
            return tlv.build(0x9F7F, self.cplc), 0x9000
        if tag == 0x0066:
            return H("664C734A06072A864886FC6B01600C060A2A864886FC6B02020101630906072A864886FC6B03640B06092A864886"
                     "FC6B040370650B06092B8510864864020103660C060A2B060104012A026E0102"), 0x9000
        if tag == 0x00E0:
            kind = 0x88 if self.scp_version == 3 else 0x80
            body = b"".join(tlv.build(0xC0, bytes((k, kvn, kind, len(ks.enc))))
                            for kvn, ks in sorted(self.key_sets.items()) for k in (1, 2, 3))
            return tlv.build(0xE0, body), 0x9000
        if tag == 0x0042:
            return tlv.build(0x42, H("123456")), 0x9000
        return b"", 0x6A88

    def _initialize_update(self, cmd: CommandAPDU) -> tuple[bytes, int]:
        self.level = -1
        kvn = cmd.p1 or min(self.key_sets)
        keys = self.key_sets.get(kvn)
        if keys is None or len(cmd.data) != 8:
            return b"", 0x6A88
        host = cmd.data
        div = H("00000000000000000001")
        if self.scp_version == 3:
            card = self.card_challenge
            sk = scp.derive_scp03_session_keys(keys.enc, keys.mac, host, card)
            self._sk = {"enc": sk.s_enc, "mac": sk.s_mac, "rmac": sk.s_rmac}
            cryptogram = scp.scp03_card_cryptogram(sk.s_mac, host, card)
            answer = div + bytes((kvn, 3, self.i)) + card + cryptogram
            if self.i & 0x10:
                answer += self.sequence.to_bytes(3, "big")
        else:
            seq = self.sequence.to_bytes(2, "big")
            card = self.card_challenge[:6]
            self._sk = {"enc": scp.scp02_session_key(keys.enc, scp.SCP02_S_ENC, seq),
                        "mac": scp.scp02_session_key(keys.mac, scp.SCP02_C_MAC, seq),
                        "dek": scp.scp02_session_key(keys.dek, scp.SCP02_DEK, seq)}
            cryptogram = scp.scp02_card_cryptogram(self._sk["enc"], host, seq, card)
            answer = div + bytes((kvn, 2)) + seq + card + cryptogram
        self._pending = (kvn, host, card)
        self._keys = keys
        self.sequence += 1
        return answer, 0x9000

    def _external_authenticate(self, cmd: CommandAPDU) -> tuple[bytes, int]:
        pending, self._pending = self._pending, None
        if pending is None or len(cmd.data) != 16 or not cmd.cla & 0x04:
            return b"", 0x6985
        _, host, card = pending
        cryptogram, mac = cmd.data[:8], cmd.data[8:]
        header = bytes((cmd.cla, cmd.ins, cmd.p1, cmd.p2))
        if self.scp_version == 3:
            want = scp.scp03_host_cryptogram(self._sk["mac"], host, card)
            want_mac, mcv = scp.scp03_command_mac(self._sk["mac"], bytes(16), header, cryptogram)
        else:
            seq = (self.sequence - 1).to_bytes(2, "big")
            want = scp.scp02_host_cryptogram(self._sk["enc"], host, seq, card)
            want_mac, mcv = scp.scp02_command_mac(self._sk["mac"], bytes(8), header, cryptogram), b""
        if want != cryptogram or want_mac[:8] != mac:
            self.auth_failures += 1
            return b"", 0x6300
        self._mcv, self._counter, self._last_mac = mcv, 0, want_mac[:8]
        self.level = cmd.p1
        return b"", 0x9000

    def _get_status(self, cmd: CommandAPDU) -> tuple[bytes, int]:
        if cmd.p2 & 0x02 and not self.tag_format:
            return b"", 0x6A86
        found = [e for e in self.entries if e.scope == cmd.p1 or (cmd.p1 == 0x20 and e.scope == 0x10)]
        if not found:
            return b"", 0x6A88
        start = self._status_pos if cmd.p2 & 0x01 else 0
        chunk = found[start : start + self.page]
        self._status_pos = start + len(chunk)
        encode = Entry.tlv if cmd.p2 & 0x02 else Entry.legacy
        data = b"".join(encode(e) for e in chunk)
        return data, 0x6310 if self._status_pos < len(found) else 0x9000

    def _put_key(self, cmd: CommandAPDU) -> tuple[bytes, int]:
        assert self._keys is not None
        data = cmd.data
        new_kvn, pos, keys, kcvs = data[0], 1, [], b""
        while pos < len(data):
            kind, length = data[pos], data[pos + 1]
            block = data[pos + 2 : pos + 2 + length]
            pos += 2 + length
            check = data[pos + 1 : pos + 1 + data[pos]]
            pos += 1 + data[pos]
            if kind == 0x88:
                size, secret = block[0], block[1:]
                key = AES(self._keys.dek).decrypt_cbc(secret)[:size]
                kcv = aes_kcv(key)
            else:
                key = TripleDES(self._sk["dek"]).decrypt_ecb(block)
                kcv = des_kcv(key)
            if kcv != check:
                return b"", 0x6A80
            keys.append(key)
            kcvs += kcv
        if cmd.p1 and cmd.p1 not in self.key_sets:
            return b"", 0x6A88
        if cmd.p1:
            del self.key_sets[cmd.p1]
        self.key_sets[new_kvn] = StaticKeys(keys[0], keys[1], keys[2], new_kvn)
        if self.lie_about_kcv:
            kcvs = bytes(9)
        return bytes((new_kvn,)) + kcvs, 0x9000

    def _delete(self, cmd: CommandAPDU) -> tuple[bytes, int]:
        objects = tlv.flatten(cmd.data)
        if b"\xd2" in objects:
            kvn = objects[b"\xd2"][0]
            if kvn not in self.key_sets:
                return b"", 0x6A88
            del self.key_sets[kvn]
            return b"\x00", 0x9000
        aid = objects.get(b"\x4f")
        before = len(self.entries)
        self.entries = [e for e in self.entries if e.aid != aid]
        return (b"\x00", 0x9000) if len(self.entries) < before else (b"", 0x6A88)

    def _install(self, cmd: CommandAPDU) -> tuple[bytes, int]:
        if cmd.p1 & 0x04:
            elf_len = cmd.data[0]
            mod_len = cmd.data[1 + elf_len]
            off = 2 + elf_len + mod_len
            aid = cmd.data[off + 1 : off + 1 + cmd.data[off]]
            self.entries.append(Entry(0x40, aid, 0x07 if cmd.p1 & 0x08 else 0x03))
        return b"\x00", 0x9000

    def _store_data(self, cmd: CommandAPDU) -> tuple[bytes, int]:
        self.stored.append((cmd.p1, cmd.p2, cmd.data))
        return b"", 0x9000

    def _set_status(self, cmd: CommandAPDU) -> tuple[bytes, int]:
        if cmd.p1 == 0x80:
            self.life_cycle = cmd.p2
            self.entries[0].state = cmd.p2
            return b"", 0x9000
        for e in self.entries:
            if e.aid == cmd.data:
                e.state = (e.state | 0x80) if cmd.p2 & 0x80 else (e.state & 0x7F)
                return b"", 0x9000
        return b"", 0x6A88

    _status_pos = 0
