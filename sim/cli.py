"""``qkdsim``: command line of the Jinan-1 QKD co-simulation (SPEC 8).

Subcommands:

* ``qkdsim keyrate COUNTS.json [--method chernoff|lim2014]``: finite-key length of one
  privacy-amplification block (SPEC 7), JSON on stdout.
* ``qkdsim relay A_DIR B_DIR [--message FILE] [--out DIR] [--ledger FILE]``: authenticated key
  relay between the two stations of two passes (satellite XOR relay) and OTP / AES-128
  encryption of a message with the relayed key (paper Methods, key relay), JSON on stdout; key
  bits already recorded in the key ledger are refused.
* ``qkdsim pass CONFIG.toml --out DIR [--ec-mode one-way|interactive]``: a whole satellite
  pass (implemented in :mod:`sim.pass_run`).
* ``qkdsim campaign CONFIG.toml --out DIR [--scheduler ADDRESS]``: the fault campaign on a Dask
  cluster (implemented in :mod:`sim.campaign.runner`).

Bad input (missing or corrupt files, impossible parameters) prints one line
``qkdsim: error: ...`` on stderr and exits with status 2.
"""

import argparse
import importlib
import json
import pathlib
import sys
from collections.abc import Sequence

from models.postprocess.errors import PostprocessInputError
from models.postprocess.finitekey import METHODS, KeyRateInput, key_length

EXIT_INPUT_ERROR = 2


class CliInputError(PostprocessInputError):
    """A command-line argument or file that cannot be used."""


def read_json(path: pathlib.Path, what: str) -> object:
    """Parse a JSON file, turning every failure into a one-line CliInputError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliInputError(f"cannot read {what} {str(path)!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CliInputError(f"{what} {str(path)!r} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliInputError(f"{what} {str(path)!r} is not valid JSON: {exc.msg} at line "
                            f"{exc.lineno} column {exc.colno}") from None


def cmd_keyrate(args: argparse.Namespace) -> int:
    counts = KeyRateInput.from_json(read_json(pathlib.Path(args.counts), "counts file"))
    result = key_length(counts, args.method)
    json.dump(result.to_json(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def cmd_relay(args: argparse.Namespace) -> int:
    from models.postprocess.relay import run_relay_cli  # lazy: only relay needs it

    report = run_relay_cli(pathlib.Path(args.a_dir), pathlib.Path(args.b_dir),
                           None if args.message is None else pathlib.Path(args.message),
                           None if args.out is None else pathlib.Path(args.out), args.mode,
                           None if args.ledger is None else pathlib.Path(args.ledger))
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def _pass_module():
    try:
        import sim.pass_run as pass_run
    except ModuleNotFoundError as exc:
        if exc.name != "sim.pass_run":
            raise
        return None
    return pass_run


def build_parser(pass_run: object | None = None, campaign: object | None = None
                 ) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qkdsim", description="Jinan-1 microsatellite QKD co-simulation")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_key = sub.add_parser("keyrate", help="finite-key length of one PA block (SPEC 7)")
    p_key.add_argument("counts", metavar="COUNTS.json", help="block counts (SPEC 8 format)")
    p_key.add_argument("--method", choices=METHODS, default="chernoff",
                       help="statistical bound: chernoff (default, as the paper) or lim2014")
    p_key.set_defaults(func=cmd_keyrate)

    p_relay = sub.add_parser("relay", help="key relay between two stations, OTP/AES message")
    p_relay.add_argument("a_dir", metavar="A_DIR", help="output directory of station A's pass")
    p_relay.add_argument("b_dir", metavar="B_DIR", help="output directory of station B's pass")
    p_relay.add_argument("--message", metavar="FILE", help="message A sends to B "
                         "(default: a built-in test message)")
    p_relay.add_argument("--mode", choices=("otp", "aes128", "both"), default="both",
                         help="encryption of the message with the relayed key")
    p_relay.add_argument("--out", metavar="DIR", help="write relayed key and ciphertexts here")
    p_relay.add_argument("--ledger", metavar="FILE", help="key ledger of both passes' keys "
                         "(default: ledger.json in A_DIR and in B_DIR)")
    p_relay.set_defaults(func=cmd_relay)

    p_pass = sub.add_parser("pass", help="simulate a whole satellite pass (SPEC 6 to 8)")
    if pass_run is not None:
        pass_run.configure_parser(p_pass)
        p_pass.set_defaults(func=pass_run.main)
    else:
        p_pass.add_argument("rest", nargs=argparse.REMAINDER)
        p_pass.set_defaults(func=_pass_missing)

    p_campaign = sub.add_parser("campaign", help="fault campaign of randomised runs on Dask")
    if campaign is not None:
        campaign.configure_parser(p_campaign)
        p_campaign.set_defaults(func=campaign.main)
    return parser


def _pass_missing(args: argparse.Namespace) -> int:
    raise CliInputError("the pass subcommand is not available in this build (sim.pass_run is "
                        "missing)")


def input_errors(pass_run: object | None) -> tuple[type[BaseException], ...]:
    """Exception classes that mean "bad input": ours, plus any that sim.pass_run declares."""
    extra = tuple(getattr(pass_run, "INPUT_ERRORS", ()))
    return (PostprocessInputError, *extra)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    pass_run = _pass_module() if argv[:1] == ["pass"] else None
    # imported only when used: it loads the whole chain and Dask
    campaign = importlib.import_module("sim.campaign.runner") if argv[:1] == ["campaign"] else None
    parser = build_parser(pass_run, campaign)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except input_errors(pass_run) + tuple(getattr(campaign, "INPUT_ERRORS", ())) as exc:
        print(f"qkdsim: error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR


if __name__ == "__main__":
    sys.exit(main())
