"""Streaming an export's XML with the standard library's C parser, refusing what defusedxml refuses.

defusedxml refuses entity declarations and external references by hooking the pure-Python
XMLParser, which halves the speed of reading a big export. Entities can only be declared, and an
external DTD only named, in the document type declaration, which comes before the root element.
So an expat parser with defusedxml's refusals reads the prolog first, up to the root element; the
file is then streamed by the C parser, which cannot meet a declared entity. Errors are defusedxml's
(EntitiesForbidden, ExternalReferenceForbidden) and ElementTree's ParseError, as before.
"""
from typing import BinaryIO
from xml.etree.ElementTree import ParseError
from xml.etree.ElementTree import iterparse as _c_iterparse
from xml.parsers import expat

from defusedxml import EntitiesForbidden, ExternalReferenceForbidden

PROLOG_CHUNK = 65536


class _RootReached(Exception):
    pass


def _refuse_entity(name, _is_parameter, value, base, sysid, pubid, notation):
    raise EntitiesForbidden(name, value, base, sysid, pubid, notation)


def _refuse_unparsed_entity(name, base, sysid, pubid, notation):
    raise EntitiesForbidden(name, None, base, sysid, pubid, notation)


def _refuse_external(context, base, sysid, pubid):
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


def _refuse_external_dtd(name, sysid, pubid, _has_internal_subset):
    if sysid or pubid:
        raise ExternalReferenceForbidden(name, None, sysid, pubid)


def _root_reached(*_args):
    raise _RootReached


def check_prolog(handle: BinaryIO) -> None:
    """Read ``handle`` up to its root element with defusedxml's refusals (and no external DTD)."""
    parser = expat.ParserCreate()
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_unparsed_entity
    parser.ExternalEntityRefHandler = _refuse_external
    parser.StartDoctypeDeclHandler = _refuse_external_dtd
    parser.StartElementHandler = _root_reached
    try:
        while chunk := handle.read(PROLOG_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _RootReached:
        return
    except expat.ExpatError as error:
        raise ParseError(str(error)) from None


def iterparse(handle: BinaryIO, events: tuple[str, ...]):
    """ElementTree's ``iterparse`` over the whole of ``handle``, once its prolog is checked."""
    start = _xml_start(handle)
    handle.seek(start)
    check_prolog(handle)
    handle.seek(start)
    return _c_iterparse(handle, events=events)


def _xml_start(handle: BinaryIO) -> int:
    """Where the XML begins: after the blank lines a WordPress plugin sometimes prints before the
    export's ``<?xml`` declaration (XML allows nothing before it, so the parser would refuse the file)."""
    head = handle.read(PROLOG_CHUNK)
    rest = head.lstrip(b" \t\r\n")
    return len(head) - len(rest) if rest.startswith(b"<") else 0
