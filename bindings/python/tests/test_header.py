"""The binding's tables against include/ums.h: any drift fails here.

The tables stay hand-written in the package (the exception classes cannot be
derived from the header); this test parses the header and compares:

* the statuses (``#define UMS_OK`` / ``UMS_ERR_*``): ``errors.STATUS_NAMES``
  (number → name) and ``errors.EXCEPTION_BY_NAME`` (name → exception class);
* the exports: every ``ums_*`` function is declared by ``_native._declare``
  with the ctypes types of its C prototype, and nothing else is declared;
* the operation exports (``ums_<name>(client, request_json, out_buf,
  out_cap, out_len)``): ``_native.OPERATIONS``, the ``Client`` method of each
  and the README's method table;
* the other constants the binding copies: version, ``UMS_MIN_OUT_CAP``,
  ``UMS_OK``, ``UMS_ERR_BUFFER_TOO_SMALL``, the ``UMS_LOG_*`` levels.
"""

import ctypes
import inspect
import logging
import re
import unittest
from typing import Any, Dict, List, Tuple
from unittest import mock

import support

import chinaums
from chinaums import _logging, _native, errors
from chinaums.client import Client

# C parameter/return types of ums.h → what _declare must say.
C_TYPES: Dict[str, Any] = {
    "void": None,
    "const char *": ctypes.c_char_p,
    "char *": ctypes.POINTER(ctypes.c_char),
    "size_t": ctypes.c_size_t,
    "size_t *": ctypes.POINTER(ctypes.c_size_t),
    "const struct UmsClient *": ctypes.c_void_p,
    "struct UmsClient *": ctypes.c_void_p,
    "struct UmsClient **": ctypes.POINTER(ctypes.c_void_p),
    "const uint8_t *": ctypes.c_char_p,  # bytes with an explicit length
    "int32_t": ctypes.c_int32,
    "UmsStatus": ctypes.c_int32,
    "UmsLogCallback": _native.LOG_CALLBACK,
    "const struct UmsTokenStore *": ctypes.POINTER(_native.TokenStore),
    "void *": ctypes.c_void_p,
}

OPERATION_PARAMS = [("const struct UmsClient *", "client"), ("const char *", "request_json"),
                    ("char *", "out_buf"), ("size_t", "out_cap"), ("size_t *", "out_len")]

Function = Tuple[str, List[Tuple[str, str]]]  # (return type, [(type, name)])


def _c_type(text: str) -> str:
    """``const  char*`` → ``const char *``."""
    text = re.sub(r"\s*\*", " *", " ".join(text.split()))
    return text.replace("* *", "**")


def parse_header(text: str) -> Tuple[Dict[str, int], Dict[str, Function]]:
    """(every ``#define UMS_X <integer>``, every ``ums_*`` prototype)."""
    text = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)
    defines = {name: int(value) for name, value in
               re.findall(r"^\s*#\s*define\s+(UMS_\w+)\s+(-?\d+)\s*$", text, flags=re.M)}
    body = re.sub(r"^\s*#[^\n]*$", "", text, flags=re.M)
    body = body.replace('extern "C" {', "").replace("{", ";").replace("}", ";")
    functions: Dict[str, Function] = {}
    for statement in body.split(";"):
        match = re.fullmatch(r"\s*([\w\s\*]+?)\s*\b(ums_\w+)\s*\(([^()]*)\)\s*", statement)
        if not match or statement.lstrip().startswith("typedef"):
            continue
        result, name, params = match.groups()
        parsed: List[Tuple[str, str]] = []
        for param in params.split(","):
            param = param.strip()
            if param in ("", "void"):
                continue
            decl = re.fullmatch(r"(.*?)(\w+)", param, flags=re.S)
            assert decl, param
            parsed.append((_c_type(decl.group(1)), decl.group(2)))
        functions[name] = (_c_type(result), parsed)
    return defines, functions


def header_statuses(defines: Dict[str, int]) -> Dict[int, str]:
    return {value: name for name, value in defines.items()
            if name == "UMS_OK" or name.startswith("UMS_ERR_")}


def header_operations(functions: Dict[str, Function]) -> List[str]:
    """The operation exports, in header order, without ``ums_``."""
    return [name[len("ums_"):] for name, (result, params) in functions.items()
            if result == "UmsStatus" and params == OPERATION_PARAMS]


class _Recorder:
    """Stands in for the CDLL: records what _declare sets on each export."""

    def __init__(self) -> None:
        self.functions: Dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self.functions.setdefault(name, type("Export", (), {})())


def declared() -> Dict[str, Tuple[Any, List[Any]]]:
    recorder = _Recorder()
    _native._declare(recorder)  # type: ignore[arg-type]
    return {name: (f.restype, list(f.argtypes)) for name, f in recorder.functions.items()}


def client_operation_methods() -> List[str]:
    """The exports the Client's methods pass to ``_op``, in source order."""
    source = inspect.getsource(Client)
    found = re.findall(r'def (\w+)\(self, request: Request\)[^\n]*\n(?:[^\n]*\n)*?'
                       r'\s*return self\._op\("ums_(\w+)", request\)', source)
    for method, export in found:
        assert method == export, "Client.%s calls ums_%s" % (method, export)
    return [export for _, export in found]


def drift(header_text: str) -> List[str]:
    """Every difference between the header and the binding's tables."""
    defines, functions = parse_header(header_text)
    problems: List[str] = []

    statuses = header_statuses(defines)
    if len(statuses) != len([n for n in defines if n == "UMS_OK" or n.startswith("UMS_ERR_")]):
        problems.append("two statuses of the header share a value")
    for value, name in sorted(statuses.items()):
        if errors.STATUS_NAMES.get(value) != name:
            problems.append("status %d is %s in ums.h, %s in STATUS_NAMES"
                            % (value, name, errors.STATUS_NAMES.get(value)))
    for value, name in sorted(errors.STATUS_NAMES.items()):
        if value not in statuses:
            problems.append("STATUS_NAMES has %d %s, ums.h does not" % (value, name))
    wanted = {name for name in statuses.values() if name != "UMS_OK"}
    for name in sorted(wanted - set(errors.EXCEPTION_BY_NAME)):
        problems.append("no exception class for %s" % name)
    for name in sorted(set(errors.EXCEPTION_BY_NAME) - wanted):
        problems.append("EXCEPTION_BY_NAME has %s, ums.h does not" % name)

    declarations = declared()
    for name, (result, params) in functions.items():
        if name not in declarations:
            problems.append("%s is not declared in _native._declare" % name)
            continue
        restype, argtypes = declarations[name]
        types = [result] + [t for t, _ in params]
        unknown = [t for t in types if t not in C_TYPES]
        if unknown:
            problems.append("%s: no ctypes mapping for C type(s) %s" % (name, unknown))
            continue
        if restype is not C_TYPES[result]:
            problems.append("%s returns %s, declared %r" % (name, result, restype))
        expected = [C_TYPES[t] for t, _ in params]
        if argtypes != expected:
            problems.append("%s takes (%s), declared %r"
                            % (name, ", ".join(t for t, _ in params), argtypes))
    for name in sorted(set(declarations) - set(functions)):
        problems.append("_native._declare declares %s, ums.h does not" % name)

    operations = header_operations(functions)
    if list(_native.OPERATIONS) != operations:
        problems.append("operations: ums.h has %s, _native.OPERATIONS %s"
                        % (operations, list(_native.OPERATIONS)))
    methods = client_operation_methods()
    if sorted(methods) != sorted(operations):
        problems.append("operations: ums.h has %s, the Client methods %s"
                        % (sorted(operations), sorted(methods)))
    with open(support.README, encoding="utf-8") as f:
        readme = f.read()
    for op in operations:
        if "| `%s(request)` |" % op not in readme:
            problems.append("README.md's method table lacks `%s(request)`" % op)

    for define, value in (("UMS_VERSION_MAJOR", _native.EXPECTED_VERSION[0]),
                          ("UMS_VERSION_MINOR", _native.EXPECTED_VERSION[1]),
                          ("UMS_MIN_OUT_CAP", _native.UMS_MIN_OUT_CAP),
                          ("UMS_OK", _native.UMS_OK),
                          ("UMS_ERR_BUFFER_TOO_SMALL", _native.UMS_ERR_BUFFER_TOO_SMALL)):
        if defines.get(define) != value:
            problems.append("%s is %s in ums.h, %s in the binding" % (define, defines.get(define), value))
    levels = {"UMS_LOG_ERROR": logging.ERROR, "UMS_LOG_WARN": logging.WARNING,
              "UMS_LOG_INFO": logging.INFO, "UMS_LOG_DEBUG": logging.DEBUG}
    header_levels = {name: v for name, v in defines.items() if name.startswith("UMS_LOG_")}
    if set(header_levels) != set(levels):
        problems.append("log levels: ums.h has %s" % sorted(header_levels))
    for name, value in header_levels.items():
        if name in levels and _logging._LEVELS.get(value) != levels[name]:
            problems.append("%s (%d) is not forwarded as logging level %d"
                            % (name, value, levels[name]))
    return problems


class HeaderDriftTest(unittest.TestCase):
    header: str

    @classmethod
    def setUpClass(cls) -> None:
        with open(support.HEADER, encoding="utf-8") as f:
            cls.header = f.read()

    def test_the_binding_matches_ums_h(self) -> None:
        self.assertEqual(drift(self.header), [])

    def test_the_header_is_parsed(self) -> None:
        defines, functions = parse_header(self.header)
        statuses = header_statuses(defines)
        self.assertGreaterEqual(len(statuses), 23)
        self.assertEqual(statuses[0], "UMS_OK")
        self.assertGreaterEqual(len(functions), 21)
        self.assertEqual(functions["ums_version"], ("const char *", []))
        self.assertEqual(functions["ums_client_new"][1][1], ("struct UmsClient **", "out_client"))
        operations = header_operations(functions)
        self.assertEqual(operations[0], "update_qrcode")
        self.assertIn("secure_complete", operations)
        self.assertNotIn("take_answer", operations)  # same types, other parameter name
        self.assertNotIn("call", operations)

    def test_the_exception_of_every_status(self) -> None:
        for value, name in errors.STATUS_NAMES.items():
            if value == 0:
                continue
            with self.subTest(name):
                e = errors.error_from_status(value, {"message": "m"})
                self.assertIs(type(e), errors.EXCEPTION_BY_NAME[name])
                self.assertEqual(e.status_name, name)
                self.assertNotEqual(chinaums.status_str(value), chinaums.status_str(12345), name)

    def test_each_operation_method_calls_its_export(self) -> None:
        calls: List[str] = []

        def spy(fn: Any, handle: int, body: bytes) -> Dict[str, Any]:
            calls.append(fn.__name__)
            return {"errCode": "SUCCESS"}

        config = support.demo_config("https://gateway.invalid")
        with Client(config) as client, mock.patch.object(_native, "call_operation", spy):
            for op in _native.OPERATIONS:
                self.assertEqual(getattr(client, op)({}), {"errCode": "SUCCESS"})
        self.assertEqual(calls, ["ums_" + op for op in _native.OPERATIONS])

    def test_drift_is_detected(self) -> None:
        """The comparison itself: each kind of header change is reported."""
        h = self.header
        cases = {
            "a new status": (h.replace("#define UMS_ERR_INTERNAL 98",
                                       "#define UMS_ERR_NEW 21\n#define UMS_ERR_INTERNAL 98"),
                             "UMS_ERR_NEW"),
            "a renumbered status": (h.replace("#define UMS_ERR_PANIC 99", "#define UMS_ERR_PANIC 97"),
                                    "UMS_ERR_PANIC"),
            "a removed status": (h.replace("#define UMS_ERR_ANSWER_GONE 20\n", ""),
                                 "STATUS_NAMES has 20"),
            "a new operation": (h.replace("#ifdef __cplusplus\n}",
                                          "UmsStatus ums_new_op(const struct UmsClient *client,\n"
                                          "  const char *request_json, char *out_buf,\n"
                                          "  size_t out_cap, size_t *out_len);\n"
                                          "#ifdef __cplusplus\n}"),
                                "ums_new_op is not declared"),
            "a removed operation": (re.sub(r"UmsStatus ums_refund\([^;]*;", "", h),
                                    "_native.OPERATIONS"),
            "a changed parameter": (h.replace("UmsStatus ums_new_id(const struct UmsClient *client,\n"
                                              "                     char *out_buf,",
                                              "UmsStatus ums_new_id(const struct UmsClient *client,\n"
                                              "                     const char *prefix,\n"
                                              "                     char *out_buf,"),
                                    "ums_new_id takes"),
            "a new version": (h.replace("#define UMS_VERSION_MINOR 1", "#define UMS_VERSION_MINOR 2"),
                              "UMS_VERSION_MINOR"),
        }
        for what, (text, expected) in cases.items():
            with self.subTest(what):
                self.assertNotEqual(text, h, "the mutation did not apply")
                problems = drift(text)
                self.assertTrue(any(expected in p for p in problems), problems)


if __name__ == "__main__":
    unittest.main()
