"""The acquirer + issuer host: ISO 8583 (1987) over TCP or in process, decisions on a SQLite ledger.

``Host.handle(bytes) -> bytes`` is the whole host (sans-IO); :class:`InProcessHostLink` and
:class:`TcpHostLink` are how a terminal reaches it, :func:`run_server` / :class:`ServerThread`
put it on a socket. docs/host.md has the message layouts, decisions and schema.
"""

from pos_sim.host._errors import HostMessageError, HostTimeout, HostUnavailable
from pos_sim.host._host import Host, HostFaults
from pos_sim.host._ledger import Account, Posting
from pos_sim.host._link import DEFAULT_URL, HostLink, InProcessHostLink, TcpHostLink, open_host_link
from pos_sim.host._server import HostServer, ServerThread, run_server
from pos_sim.host.iso8583 import (
    MTI,
    AdditionalAmount,
    Fields,
    OriginalData,
    OriginalReference,
    SettlementTotals,
    TxnType,
    decode_message,
    encode_message,
    frame,
)

__all__ = [
    "DEFAULT_URL",
    "MTI",
    "Account",
    "AdditionalAmount",
    "Fields",
    "Host",
    "HostFaults",
    "HostLink",
    "HostMessageError",
    "HostServer",
    "HostTimeout",
    "HostUnavailable",
    "InProcessHostLink",
    "OriginalData",
    "OriginalReference",
    "Posting",
    "ServerThread",
    "SettlementTotals",
    "TcpHostLink",
    "TxnType",
    "decode_message",
    "encode_message",
    "frame",
    "open_host_link",
    "run_server",
]
