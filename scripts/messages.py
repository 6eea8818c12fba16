"""The dashboard's message catalogues: extract the messages of the code, update the .po files, check them.

    python scripts/messages.py update   # make messages: the code's messages into every <lang>/.../messages.po
    python scripts/messages.py check    # make messages-check: fails listing every message without a translation
    python scripts/messages.py init de  # a new language: dashboard/locale/de/LC_MESSAGES/messages.po

Messages are the arguments of ``_()``, ``ngettext()`` (both forms), ``lazy_gettext()`` and ``N_()`` in
``dashboard/**.py`` (babel.cfg). "Without a translation" means: missing from the .po, an empty msgstr (any
plural form) or marked fuzzy (fuzzy entries are not used at run time).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "dashboard" / "locale"
KEYWORDS = {"_": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None,
            "AudienceError": None}  # its template is the message shown to users (audience form), translated


def extract() -> Catalog:
    """Every message of the dashboard's code (with its source lines), as a template catalogue."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    catalog = Catalog(project="customer-segments", charset="utf-8")
    for path, line, message, comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True):
        catalog.add(message, None, [(path, line)], auto_comments=comments, context=context)
    return catalog


def catalogues() -> dict[str, Path]:
    """The .po file of each translated language."""
    return {path.parent.parent.name: path for path in sorted(LOCALE.glob("*/LC_MESSAGES/messages.po"))}


def _read(path: Path, lang: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


def _write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=116, sort_output=True, include_lineno=False, ignore_obsolete=True)


def untranslated(template: Catalog, catalog: Catalog) -> list[str]:
    """msgids of ``template`` that ``catalog`` lacks, leaves empty or marks fuzzy, sorted."""
    missing = []
    for message in template:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
        found = catalog.get(message.id, context=message.context)
        strings = [] if found is None else (found.string if isinstance(found.string, (list, tuple))
                                            else [found.string])
        if found is None or found.fuzzy or not strings or not all(strings):
            missing.append(key)
    return sorted(missing)


def update() -> None:
    """Merge the code's messages into every .po (new messages empty, changed ones fuzzy, gone ones dropped)."""
    template = extract()
    for lang, path in catalogues().items():
        catalog = _read(path, lang)
        catalog.update(template, no_fuzzy_matching=False)
        _write(catalog, path)
        print(f"{path.relative_to(ROOT)}: {len(untranslated(template, catalog))} message(s) to translate")


def init(lang: str) -> None:
    """Start the catalogue of a new language from the code's messages."""
    path = LOCALE / lang / "LC_MESSAGES" / "messages.po"
    if path.exists():
        sys.exit(f"{path.relative_to(ROOT)} exists already; use `make messages` to update it.")
    template = extract()
    catalog = Catalog(locale=lang, project="customer-segments", charset="utf-8")
    catalog.update(template)
    _write(catalog, path)
    print(f"{path.relative_to(ROOT)}: {len(template)} message(s) to translate")


def check() -> int:
    """0 when every language translates every message of the code; else 1, listing what is missing."""
    template = extract()
    failed = 0
    for lang, path in catalogues().items():
        missing = untranslated(template, _read(path, lang))
        for msgid in missing:
            print(f"{path.relative_to(ROOT)}: no translation for {msgid!r}")
        failed += len(missing)
    if failed:
        print(f"{failed} untranslated message(s): run `make messages`, translate the empty or fuzzy entries.")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["update", "check", "init"])
    parser.add_argument("lang", nargs="?", help="language code, for init (e.g. de)")
    args = parser.parse_args(argv)
    if args.command == "init":
        if not args.lang:
            parser.error("init needs a language code, e.g. `init de`")
        init(args.lang)
        return 0
    if args.command == "update":
        update()
        return 0
    return check()


if __name__ == "__main__":
    sys.exit(main())
