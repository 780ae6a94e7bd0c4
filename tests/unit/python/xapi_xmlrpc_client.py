"""Drives the XAPI simulator with Python's standard xmlrpc.client, as XenAPI.py users do.

Reads XAPI_URL, XAPI_USER, XAPI_PASSWORD and XAPI_CAFILE from the environment and prints one
JSON object describing what it saw; the jest test asserts on it.
"""

import json
import os
import ssl
import xmlrpc.client


def value(reply):
    """XAPI wraps every reply as {Status, Value} or {Status, ErrorDescription}."""
    if reply["Status"] != "Success":
        raise RuntimeError("XAPI failure: %r" % (reply["ErrorDescription"],))
    return reply["Value"]


def main():
    url = os.environ["XAPI_URL"]
    context = ssl.create_default_context(cafile=os.environ["XAPI_CAFILE"])
    xapi = xmlrpc.client.ServerProxy(url, context=context)
    out = {}

    session = value(xapi.session.login_with_password(
        os.environ["XAPI_USER"], os.environ["XAPI_PASSWORD"], "1.0", "xp-python-test"))
    out["session_prefix"] = session.split(":")[0]

    [media] = value(xapi.VM.get_by_name_label(session, "media-server"))
    record = value(xapi.VM.get_record(session, media))
    out["power_state"] = record["power_state"]
    out["allowed_devices"] = value(xapi.VM.get_allowed_VBD_devices(session, media))[:2]

    [system_vbd] = record["VBDs"]
    vdi = value(xapi.VBD.get_VDI(session, system_vbd))
    size = value(xapi.VDI.get_virtual_size(session, vdi))
    out["virtual_size_type"] = type(size).__name__
    out["virtual_size"] = int(size)

    [archive] = value(xapi.VM.get_by_name_label(session, "archive"))
    out["shutdown_halted"] = xapi.VM.clean_shutdown(session, archive)

    out["bad_session"] = xapi.VM.get_all(session + "x")
    out["bad_arity"] = xapi.VM.get_record(session)

    value(xapi.session.logout(session))
    out["after_logout"] = xapi.VM.get_all(session)

    try:
        xmlrpc.client.ServerProxy(url, context=ssl.create_default_context()).system.listMethods()
        out["untrusted_rejected"] = False
    except ssl.SSLCertVerificationError:
        out["untrusted_rejected"] = True

    print(json.dumps(out))


if __name__ == "__main__":
    main()
