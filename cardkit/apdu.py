"""ISO 7816-4 command and response APDUs, and status words with their meanings.

``CommandAPDU`` covers cases 1-4 in short and extended length (ISO/IEC 7816-4:2020 §5.1).
``Le`` is kept as the number of bytes expected: 256 stands for a short ``00`` and 65536 for an
extended ``0000``. Parsing and building are exact inverses.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from cardkit.errors import ApduError

__all__ = [
    "SW",
    "CommandAPDU",
    "ResponseAPDU",
    "bytes_available",
    "correct_le",
    "describe_sw",
    "pin_tries_left",
]


@dataclass(frozen=True, slots=True)
class CommandAPDU:
    """A command APDU. Valid once it exists; ``to_bytes`` and ``parse`` round-trip."""

    cla: int
    ins: int
    p1: int = 0
    p2: int = 0
    data: bytes = b""
    le: int | None = None
    extended: bool = False

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFF:
                raise ApduError(f"{name.upper()} {value} is not a byte")
        if len(self.data) > 65535:
            raise ApduError(f"command data of {len(self.data)} bytes exceeds 65535")
        if self.le is not None and not 1 <= self.le <= 65536:
            raise ApduError(f"Le {self.le} is outside 1..65536")
        needs_ext = len(self.data) > 255 or (self.le is not None and self.le > 256)
        if needs_ext and not self.extended:
            object.__setattr__(self, "extended", True)
        if self.extended and self.data == b"" and self.le is None:
            object.__setattr__(self, "extended", False)  # case 1 has no length fields at all

    @property
    def case(self) -> int:
        """ISO 7816-3 case number 1-4."""
        if not self.data:
            return 1 if self.le is None else 2
        return 3 if self.le is None else 4

    @property
    def header(self) -> bytes:
        return bytes((self.cla, self.ins, self.p1, self.p2))

    def to_bytes(self) -> bytes:
        out = bytearray(self.header)
        n = len(self.data)
        if self.extended:
            if n:
                out += b"\x00" + n.to_bytes(2, "big") + self.data
            if self.le is not None:
                le = b"\x00\x00" if self.le == 65536 else self.le.to_bytes(2, "big")
                out += le if n else b"\x00" + le
        else:
            if n:
                out.append(n)
                out += self.data
            if self.le is not None:
                out.append(self.le & 0xFF)
        return bytes(out)

    @classmethod
    def parse(cls, raw: bytes) -> CommandAPDU:
        """Parse a command APDU; raise ``ApduError`` saying what is wrong with the bytes."""
        n = len(raw)
        if n < 4:
            raise ApduError(f"command APDU of {n} bytes is shorter than the 4-byte header")
        cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
        if n == 4:
            return cls(cla, ins, p1, p2)
        b0 = raw[4]
        if n == 5:
            return cls(cla, ins, p1, p2, le=b0 or 256)
        if b0 != 0:  # short Lc
            if n == 5 + b0:
                return cls(cla, ins, p1, p2, raw[5:])
            if n == 6 + b0:
                return cls(cla, ins, p1, p2, raw[5:-1], le=raw[-1] or 256)
            raise ApduError(f"Lc {b0} does not match the {n - 5} bytes after the header")
        if n == 7:  # case 2E
            return cls(cla, ins, p1, p2, le=int.from_bytes(raw[5:7], "big") or 65536, extended=True)
        if n < 8:
            raise ApduError("extended-length APDU is truncated")
        lc = int.from_bytes(raw[5:7], "big")
        if lc == 0:
            raise ApduError("extended Lc of zero")
        if n == 7 + lc:
            return cls(cla, ins, p1, p2, raw[7:], extended=True)
        if n == 9 + lc:
            le = int.from_bytes(raw[-2:], "big") or 65536
            return cls(cla, ins, p1, p2, raw[7:-2], le=le, extended=True)
        raise ApduError(f"extended Lc {lc} does not match the {n - 7} bytes after it")

    def __str__(self) -> str:
        return self.to_bytes().hex(" ").upper()


@dataclass(frozen=True, slots=True)
class ResponseAPDU:
    """A response APDU: data followed by the two status bytes."""

    data: bytes
    sw: int

    def __post_init__(self) -> None:
        if not 0 <= self.sw <= 0xFFFF:
            raise ApduError(f"status word {self.sw:#x} is not two bytes")
        object.__setattr__(self, "sw", int(self.sw))  # a plain int, even when given an SW member

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        return self.sw == SW.OK

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    @classmethod
    def parse(cls, raw: bytes) -> ResponseAPDU:
        if len(raw) < 2:
            raise ApduError(f"response APDU of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))

    @classmethod
    def status(cls, sw: int) -> ResponseAPDU:
        return cls(b"", int(sw))

    def describe(self) -> str:
        return describe_sw(self.sw)

    def __str__(self) -> str:
        return self.to_bytes().hex(" ").upper()


class SW(IntEnum):
    """Named status words (ISO 7816-4 §5.6, EMV Book 3 §6.3.5, GlobalPlatform 2.3, PBOC / JR/T 0025)."""

    OK = 0x9000
    WARNING_NO_INFO = 0x6200
    DATA_MAY_BE_CORRUPTED = 0x6281
    END_OF_FILE = 0x6282
    SELECTED_FILE_INVALIDATED = 0x6283
    FCI_FORMAT_ERROR = 0x6284
    AUTHENTICATION_FAILED_WARNING = 0x6300
    FILE_FILLED = 0x6381
    EXECUTION_ERROR = 0x6400
    MEMORY_FAILURE = 0x6581
    WRONG_LENGTH = 0x6700
    FUNCTION_IN_CLA_NOT_SUPPORTED = 0x6800
    LOGICAL_CHANNEL_NOT_SUPPORTED = 0x6881
    SECURE_MESSAGING_NOT_SUPPORTED = 0x6882
    LAST_COMMAND_EXPECTED = 0x6883
    CHAINING_NOT_SUPPORTED = 0x6884
    COMMAND_NOT_ALLOWED = 0x6900
    INCOMPATIBLE_FILE_STRUCTURE = 0x6981
    SECURITY_STATUS_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    REFERENCE_DATA_NOT_USABLE = 0x6984
    CONDITIONS_NOT_SATISFIED = 0x6985
    COMMAND_NOT_ALLOWED_NO_EF = 0x6986
    SM_DATA_OBJECTS_MISSING = 0x6987
    SM_DATA_OBJECTS_INCORRECT = 0x6988
    WRONG_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    RECORD_NOT_FOUND = 0x6A83
    NOT_ENOUGH_MEMORY = 0x6A84
    NC_INCONSISTENT_WITH_TLV = 0x6A85
    INCORRECT_P1P2 = 0x6A86
    NC_INCONSISTENT_WITH_P1P2 = 0x6A87
    REFERENCED_DATA_NOT_FOUND = 0x6A88
    FILE_ALREADY_EXISTS = 0x6A89
    DF_NAME_ALREADY_EXISTS = 0x6A8A
    WRONG_P1P2 = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    NO_PRECISE_DIAGNOSIS = 0x6F00
    # PBOC electronic purse (JR/T 0025 / JT/T 978 usage)
    MAC_INVALID = 0x9302
    APPLICATION_LOCKED_PERMANENTLY = 0x9303
    INSUFFICIENT_BALANCE = 0x9401
    COUNTER_AT_LIMIT = 0x9402
    KEY_INDEX_NOT_SUPPORTED = 0x9403
    MAC_REQUIRED = 0x9406


_EXACT: dict[int, str] = {
    SW.OK: "normal processing",
    SW.WARNING_NO_INFO: "warning: no information given, non-volatile memory unchanged",
    SW.DATA_MAY_BE_CORRUPTED: "warning: part of returned data may be corrupted",
    SW.END_OF_FILE: "warning: end of file or record reached before reading Ne bytes",
    SW.SELECTED_FILE_INVALIDATED: "warning: selected file deactivated",
    SW.FCI_FORMAT_ERROR: "warning: file control information not formatted per ISO 7816-4",
    SW.AUTHENTICATION_FAILED_WARNING: "warning: authentication failed",
    SW.FILE_FILLED: "warning: file filled up by the last write",
    SW.EXECUTION_ERROR: "execution error, non-volatile memory unchanged",
    SW.MEMORY_FAILURE: "memory failure",
    SW.WRONG_LENGTH: "wrong length",
    SW.FUNCTION_IN_CLA_NOT_SUPPORTED: "functions in CLA not supported",
    SW.LOGICAL_CHANNEL_NOT_SUPPORTED: "logical channel not supported",
    SW.SECURE_MESSAGING_NOT_SUPPORTED: "secure messaging not supported",
    SW.LAST_COMMAND_EXPECTED: "last command of the chain expected",
    SW.CHAINING_NOT_SUPPORTED: "command chaining not supported",
    SW.COMMAND_NOT_ALLOWED: "command not allowed",
    SW.INCOMPATIBLE_FILE_STRUCTURE: "command incompatible with file structure",
    SW.SECURITY_STATUS_NOT_SATISFIED: "security status not satisfied",
    SW.AUTH_METHOD_BLOCKED: "authentication method blocked",
    SW.REFERENCE_DATA_NOT_USABLE: "reference data not usable",
    SW.CONDITIONS_NOT_SATISFIED: "conditions of use not satisfied",
    SW.COMMAND_NOT_ALLOWED_NO_EF: "command not allowed (no current EF)",
    SW.SM_DATA_OBJECTS_MISSING: "expected secure messaging data objects missing",
    SW.SM_DATA_OBJECTS_INCORRECT: "incorrect secure messaging data objects",
    SW.WRONG_DATA: "incorrect parameters in the command data field",
    SW.FUNCTION_NOT_SUPPORTED: "function not supported",
    SW.FILE_NOT_FOUND: "file or application not found",
    SW.RECORD_NOT_FOUND: "record not found",
    SW.NOT_ENOUGH_MEMORY: "not enough memory space in the file",
    SW.NC_INCONSISTENT_WITH_TLV: "Nc inconsistent with TLV structure",
    SW.INCORRECT_P1P2: "incorrect parameters P1-P2",
    SW.NC_INCONSISTENT_WITH_P1P2: "Nc inconsistent with parameters P1-P2",
    SW.REFERENCED_DATA_NOT_FOUND: "referenced data or reference data not found",
    SW.FILE_ALREADY_EXISTS: "file already exists",
    SW.DF_NAME_ALREADY_EXISTS: "DF name already exists",
    SW.WRONG_P1P2: "wrong parameters P1-P2",
    SW.INS_NOT_SUPPORTED: "instruction code not supported or invalid",
    SW.CLA_NOT_SUPPORTED: "class not supported",
    SW.NO_PRECISE_DIAGNOSIS: "no precise diagnosis",
    SW.MAC_INVALID: "MAC invalid (PBOC)",
    SW.APPLICATION_LOCKED_PERMANENTLY: "application permanently locked (PBOC)",
    SW.INSUFFICIENT_BALANCE: "insufficient balance (PBOC)",
    SW.COUNTER_AT_LIMIT: "transaction counter at its limit (PBOC)",
    SW.KEY_INDEX_NOT_SUPPORTED: "key index not supported (PBOC)",
    SW.MAC_REQUIRED: "MAC required (PBOC)",
    0x6A88: "referenced data or reference data not found",
    0x6A8B: "data object not found (GlobalPlatform)",
    0x6999: "applet selection failed (Java Card)",
    0x6310: "more data available (GlobalPlatform GET STATUS)",
}

_BY_SW1: dict[int, str] = {
    0x62: "warning: non-volatile memory unchanged",
    0x63: "warning: non-volatile memory changed",
    0x64: "execution error, non-volatile memory unchanged",
    0x65: "execution error, non-volatile memory changed",
    0x66: "security-related issue",
    0x67: "wrong length",
    0x68: "functions in CLA not supported",
    0x69: "command not allowed",
    0x6A: "wrong parameters P1-P2",
    0x6B: "wrong parameters P1-P2",
    0x6D: "instruction code not supported or invalid",
    0x6E: "class not supported",
    0x6F: "no precise diagnosis",
    0x93: "PBOC application error",
    0x94: "PBOC purse error",
}


def describe_sw(sw: int) -> str:
    """Human meaning of a status word, including the 61xx, 6Cxx and 63Cx families."""
    if sw in _EXACT:
        return _EXACT[sw]
    sw1, sw2 = sw >> 8, sw & 0xFF
    if sw1 == 0x61:
        return f"{sw2 or 256} response bytes still available (GET RESPONSE)"
    if sw1 == 0x6C:
        return f"wrong Le: exactly {sw2 or 256} bytes available"
    if sw & 0xFFF0 == 0x63C0:
        return f"verification failed, {sw2 & 0x0F} tries left"
    if sw1 == 0x9F:
        return f"{sw2 or 256} response bytes available (GSM/SIM)"
    return _BY_SW1.get(sw1, "unknown status word")


def bytes_available(sw: int) -> int | None:
    """For 61xx, how many bytes GET RESPONSE can fetch; otherwise ``None``."""
    return ((sw & 0xFF) or 256) if sw >> 8 == 0x61 else None


def correct_le(sw: int) -> int | None:
    """For 6Cxx, the exact Le to resend the command with; otherwise ``None``."""
    return ((sw & 0xFF) or 256) if sw >> 8 == 0x6C else None


def pin_tries_left(sw: int) -> int | None:
    """For 63Cx, the number of verification tries left; otherwise ``None``."""
    return sw & 0x0F if sw & 0xFFF0 == 0x63C0 else None
