#!/usr/bin/env python3
"""Checks AWS CLI --cli-input-json files against the AWS service model.

Usage:
  validate_cli_input.py SERVICE OPERATION FILE [SERVICE OPERATION FILE ...]
  validate_cli_input.py --probe

Each FILE must be exactly the input of `aws SERVICE OPERATION
--cli-input-json file://FILE`: the CLI hands its keys to botocore as the
operation's parameters, and botocore's ParamValidator is what rejects an
unknown key, a missing required one or a wrong type before any request is
sent. This script runs that same validation, offline, with no credentials,
then checks what the server would reject but the client does not: enum
values, string patterns and length or range limits of the model.

botocore comes from the `botocore` package (pip, or Debian's
python3-botocore) or from the copy Debian's `awscli` package (AWS CLI v2)
carries as awscli.botocore. --probe prints which one is used and how many
AWS Batch operations its model knows, so a caller can pick the newest model
when several interpreters have one.

Exit status: 0 all valid; 1 some file is invalid; 2 no botocore.
"""

import json
import re
import sys


def load_botocore():
    """Returns (session module, validate module, version, module name)."""
    try:
        import botocore
        import botocore.session
        import botocore.validate
        return botocore.session, botocore.validate, botocore.__version__, "botocore"
    except ImportError:
        pass
    try:
        import awscli.botocore as vendored
        import awscli.botocore.session
        import awscli.botocore.validate
        return awscli.botocore.session, awscli.botocore.validate, vendored.__version__, "awscli.botocore"
    except ImportError:
        pass
    sys.stderr.write(
        "validate_cli_input.py: no botocore for %s.\n"
        "Install Debian's AWS CLI (it ships botocore): apt-get install awscli\n"
        "or botocore itself: apt-get install python3-botocore (or pip install botocore)\n" % sys.executable)
    sys.exit(2)


MODEL = "botocore"  # set by main: the botocore that is checking, for messages


def check_model_limits(value, shape, path, errors):
    """Enum, pattern, length and range checks that ParamValidator leaves to
    the server."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                check_model_limits(value[name], member, path + "." + name, errors)
    elif kind == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            check_model_limits(item, shape.member, "%s[%d]" % (path, i), errors)
    elif kind == "map" and isinstance(value, dict):
        for k, v in value.items():
            check_model_limits(k, shape.key, path + " key " + repr(k), errors)
            check_model_limits(v, shape.value, "%s[%r]" % (path, k), errors)
    elif kind == "string" and isinstance(value, str):
        enum = getattr(shape, "enum", None) or []
        if enum and value not in enum:
            errors.append("%s: %r is not one of %s (if AWS added it after this model, %s, use a newer botocore)"
                          % (path, value, ", ".join(enum), MODEL))
        meta = shape.metadata
        if "min" in meta and len(value) < meta["min"]:
            errors.append("%s: shorter than %d characters" % (path, meta["min"]))
        if "max" in meta and len(value) > meta["max"]:
            errors.append("%s: longer than %d characters" % (path, meta["max"]))
        pattern = meta.get("pattern")
        if pattern:
            try:
                rx = re.compile(pattern)
            except re.error:
                rx = None  # a Java-only construct: leave it to the server
            if rx is not None and not rx.fullmatch(value):
                errors.append("%s: %r does not match the pattern %s" % (path, value, pattern))
    elif kind in ("integer", "long") and isinstance(value, int) and not isinstance(value, bool):
        meta = shape.metadata
        if "min" in meta and value < meta["min"]:
            errors.append("%s: %d is below the minimum %d" % (path, value, meta["min"]))
        if "max" in meta and value > meta["max"]:
            errors.append("%s: %d is above the maximum %d" % (path, value, meta["max"]))


def validate(session, validate_mod, service, operation, name):
    """Returns the problems of one file, as strings."""
    try:
        with open(name, encoding="utf-8") as f:
            params = json.load(f)
    except (OSError, ValueError) as e:
        return ["%s: %s" % (name, e)]
    if not isinstance(params, dict):
        return ["%s: not a JSON object" % name]
    # The CLI's `aws s3api` is botocore's "s3" model.
    model = session.get_service_model({"s3api": "s3"}.get(service, service))
    try:
        shape = model.operation_model(operation).input_shape
    except Exception as e:  # botocore raises OperationNotFoundError
        return ["%s: %s %s: %s" % (name, service, operation, e)]
    problems = []
    report = validate_mod.ParamValidator().validate(params, shape)
    if report.has_errors():
        problems.append(report.generate_report())
    limits = []
    check_model_limits(params, shape, operation, limits)
    problems.extend(limits)
    return problems


def main(argv):
    global MODEL
    session_mod, validate_mod, version, module = load_botocore()
    MODEL = "%s %s" % (module, version)
    session = session_mod.get_session()
    if argv[1:] == ["--probe"]:
        ops = session.get_service_model("batch").operation_names
        print(json.dumps({"module": module, "version": version, "python": sys.executable,
                          "batch_operations": len(ops)}))
        return 0
    args = argv[1:]
    if not args or len(args) % 3:
        sys.stderr.write(__doc__)
        return 2
    failed = False
    for i in range(0, len(args), 3):
        service, operation, name = args[i:i + 3]
        problems = validate(session, validate_mod, service, operation, name)
        if problems:
            failed = True
            print("INVALID %s (aws %s %s):" % (name, service, operation))
            for p in problems:
                print("  " + p.replace("\n", "\n  "))
        else:
            print("ok      %s (aws %s %s)" % (name, service, operation))
    print("checked with %s %s (%s)" % (module, version, sys.executable))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
