"""`newswatch rules test` (figures of the rules on labeled articles) and `newswatch rules
explain` (one decision, term by term). They parse and print; the work is in
`crawler.evaluation` and `crawler.filter.explain`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import click

from crawler.cli_options import (
    CONTEXT,
    config_option,
    decode_input,
    echo_table,
    format_choice,
    handle_errors,
    input_name,
)
from crawler.config import load_config
from crawler.errors import not_utf8

if TYPE_CHECKING:
    from crawler.evaluation import Outcome, Report
    from crawler.filter import MatchResult
    from crawler.filter.explain import Explanation, TermPoints


@click.group(context_settings=CONTEXT)
def rules() -> None:
    """Measure the filter rules on labeled articles, or explain one decision term by term.

    Both use the rules of the configuration (--config, [filter] rules) exactly as a crawl does.

    \b
    Example:
      newswatch rules test --labeled labeled.jsonl --config newswatch.toml
      newswatch rules explain --title "Tanger et Séville renouvellent leur jumelage" article.txt
    """


# rules test


@rules.command("test", context_settings=CONTEXT)
@config_option
@click.option(
    "--labeled",
    "labeled",
    multiple=True,
    required=True,
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='JSON lines {"id", "title", "text", "label": true|false, optional "tier", "lang", '
    '"kind"}. Repeatable: each file is reported on its own (e.g. dev and held-out).',
)
@format_choice("table", "json")
@handle_errors
def test_rules(config_path: Path | None, labeled: tuple[Path, ...], output_format: str) -> None:
    """Precision, recall and F1 of the rules on labeled articles, overall, per language and per
    tier, with the misclassified articles and why.

    A bad line is reported with its file and line number and skipped; the command then exits 1.

    \b
    Example:
      newswatch rules test --labeled dev.jsonl --labeled heldout.jsonl
      newswatch rules test --labeled dev.jsonl --config newswatch.toml --format json
    """
    from crawler.evaluation import evaluate_lines
    from crawler.filter import RuleEngine

    config = load_config(config_path)
    engine = RuleEngine.from_path(config.rules_path())
    reports = []
    bad = 0
    for path in labeled:
        report, problems = evaluate_lines(engine, _read_lines(path), str(path))
        for number, problem in problems:
            click.echo(f"Error: {path}: line {number}: {problem}; line skipped", err=True)
        bad += len(problems)
        reports.append(report)
    if output_format == "json":
        document = {
            "rules": str(config.rules_path()),
            "rules_digest": engine.rules_digest,
            "files": [report.to_dict() for report in reports],
        }
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        click.echo(f"Rules: {config.rules_path()} (digest {engine.rules_digest})")
        for report in reports:
            click.echo("")
            _echo_report(report)
    if bad:
        sys.exit(1)


def _read_lines(path: Path) -> list[str]:
    try:
        return decode_input(path.read_bytes()).splitlines()
    except UnicodeDecodeError as exc:
        raise click.BadParameter(
            f"{path}: {not_utf8(exc)}; give a UTF-8 file of JSON lines", param_hint="--labeled"
        ) from None
    except OSError as exc:
        raise click.BadParameter(
            f"cannot read {path}: {exc}; give a UTF-8 file of JSON lines", param_hint="--labeled"
        ) from None


def _echo_report(report: Report) -> None:
    counts = report.counts()
    positives = counts.tp + counts.fn
    click.echo(
        f"{report.path}: {counts.total} articles, {positives} positive, "
        f"{counts.total - positives} negative"
    )
    tiers = report.tiers
    rows = []
    for language in [None, *report.languages]:
        figures = report.figures(language)
        rows.append(
            [
                language or "all",
                str(figures["articles"]),
                *(str(figures[key]) for key in ("tp", "fp", "fn", "tn")),
                *(_ratio(figures[key]) for key in ("precision", "recall", "f1")),
                *(_tier_recall(figures["tiers"][tier]) for tier in tiers),
            ]
        )
    headers = ["lang", "n", "TP", "FP", "FN", "TN", "precision", "recall", "F1"]
    echo_table(headers + [f"{tier} recall" for tier in tiers], rows)
    kinds = report.kinds()
    if kinds:
        click.echo("False positives per kind of negative:")
        for kind, (fp, total) in kinds.items():
            click.echo(f"  {kind}: {fp} of {total}")
    missed = [o for o in report.misclassified if o.article.label]
    false = [o for o in report.misclassified if not o.article.label]
    for heading, outcomes in (("Missed positives", missed), ("False positives", false)):
        if outcomes:
            click.echo(f"{heading} ({len(outcomes)}):")
            for outcome in outcomes:
                _echo_outcome(outcome)
    if report.wrong_tiers:
        click.echo(f"Found with the wrong tier ({len(report.wrong_tiers)}):")
        for outcome in report.wrong_tiers:
            _echo_outcome(outcome)
    if not report.outcomes:
        click.echo("No article to test in this file.")
    elif not report.misclassified and not report.wrong_tiers:
        click.echo("Every article is classified as labeled.")


def _verdict(result: MatchResult) -> str:
    """ "match, tier core", "match" (rules without tiers) or "no match"."""
    if not result.matched:
        return "no match"
    return f"match, tier {result.tier}" if result.tier else "match"


def _echo_outcome(outcome: Outcome) -> None:
    article, result = outcome.article, outcome.result
    facts = [article.lang or "?"]
    if article.tier:
        facts.append(f"labeled {article.tier}")
    if article.kind:
        facts.append(article.kind)
    click.echo(
        f"  {article.id} (line {article.line}; {', '.join(facts)}): {_verdict(result)}, "
        f"score {result.score:g}, threshold {result.threshold:g}"
    )
    terms = "; ".join(f"{group}: {', '.join(found)}" for group, found in result.groups.items())
    click.echo(f"    terms: {terms or '(none)'}")
    if result.excluded:
        click.echo(f"    excluded: {', '.join(result.excluded)}")
    click.echo(f"    why: {result.reason}")


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _tier_recall(figures: dict[str, Any]) -> str:
    if not figures["labeled"]:
        return "-"
    return f"{figures['found']}/{figures['labeled']} {_ratio(figures['recall'])}"


# rules explain


@rules.command("explain", context_settings=CONTEXT)
@config_option
@click.option("--title", default=None, help="The title, for plain-text input (it counts more).")
@click.option("--lang", default=None, help="The language (fr, en, ar) as a crawl would pass it.")
@format_choice("table", "json")
@click.argument("file", type=click.File("rb"), default="-")
@handle_errors
def explain_rules(
    config_path: Path | None,
    title: str | None,
    lang: str | None,
    output_format: str,
    file: BinaryIO,
) -> None:
    """Show which terms of which group fired on one article, where, and for how many points;
    the exclusions, every tier condition, and the decision.

    FILE (or stdin) is the article's plain text, or one JSON object {"title", "text", "lang"}.

    \b
    Example:
      newswatch rules explain --title "Jumelage entre Tanger et Séville" article.txt
      echo '{"title": "…", "text": "…"}' | newswatch rules explain --format json
    """
    from crawler.filter import RuleEngine
    from crawler.filter.explain import explain
    from crawler.processing import trace

    try:
        content = decode_input(file.read())
    except UnicodeDecodeError as exc:
        raise click.BadParameter(
            f"{input_name(file)}: {not_utf8(exc)}; save it as UTF-8", param_hint="FILE"
        ) from None
    item = _explain_input(content, input_name(file))
    config = load_config(config_path)
    engine = RuleEngine.from_path(config.rules_path())
    title = title if title is not None else item.get("title", "")
    lang = lang if lang is not None else item.get("lang")
    found = trace(engine, title or "", item["text"], lang)
    explanation = explain(engine.rules, engine.rules_digest, found)
    if output_format == "json":
        click.echo(json.dumps(explanation.to_dict(), ensure_ascii=False, indent=2))
    else:
        _echo_explanation(explanation)


def _explain_input(content: str, name: str) -> dict[str, Any]:
    """{"title"?, "text", "lang"?} from a JSON object, or {"text"} from plain text."""
    if not content.lstrip().startswith("{"):
        return {"text": content}
    try:
        item = json.loads(content)
    except ValueError as exc:
        raise click.BadParameter(
            f"{name}: starts with '{{' but is not one JSON object ({exc}); give plain text, or "
            'one object like {"title": "...", "text": "..."}',
            param_hint="FILE",
        ) from None
    fields = {key: item.get(key) for key in ("title", "text", "lang")}
    if not all(value is None or isinstance(value, str) for value in fields.values()):
        raise click.BadParameter(
            f'{name}: "title", "text" and "lang" must be strings', param_hint="FILE"
        )
    return {key: value for key, value in fields.items() if value is not None} | {
        "text": fields["text"] or ""
    }


def _echo_explanation(explanation: Explanation) -> None:
    result = explanation.result
    zones = f"title ×{explanation.title_weight:g}"
    if explanation.lead_chars:
        zones += f", lead (first {explanation.lead_chars} characters) ×{explanation.lead_weight:g}"
    click.echo(f"Rules: {explanation.rules} (digest {explanation.rules_digest}); {zones}")
    click.echo(
        f"Decision: {_verdict(result)} (score {result.score:g}, threshold {result.threshold:g})"
    )
    click.echo("")
    click.echo("Groups (points = weight × zone multiplier; only the best max_terms terms count):")
    silent = []
    for group in explanation.groups:
        if not group.terms:
            silent.append(group.name)
            continue
        click.echo(
            f"  {group.name}: {group.score:g} points "
            f"(weight {group.weight:g}, at most {group.max_terms} "
            f"term{'s' if group.max_terms > 1 else ''}, looks at {group.where})"
        )
        for term in group.terms:
            click.echo(f"    {term.points:>6g}  {_describe(term)}")
            if not term.counted:
                click.echo(f"            not counted: beyond max_terms = {group.max_terms}")
    if silent:
        click.echo(f"  no term found: {', '.join(silent)}")
    click.echo("Exclusions:")
    fired = [exclusion for exclusion in explanation.exclusions if exclusion.terms]
    for exclusion in fired:
        click.echo(
            f"  {exclusion.name}: -{exclusion.penalty:g} points (looks at {exclusion.where})"
        )
        for term in exclusion.terms:
            click.echo(f"            {_describe(term)}")
    if not fired:
        click.echo("  none fired")
    if explanation.tiers:
        click.echo("Tiers (tried in order; the first that holds decides):")
        for index, tier in enumerate(explanation.tiers):
            state = "holds" if tier.held else "fails"
            decides = ": decides" if index == explanation.deciding_tier else ""
            click.echo(f"  {tier.name} (block #{index + 1}): {state}{decides}")
            for held, condition in tier.conditions:
                click.echo(f"    {'ok' if held else 'NO'}  {condition}")
    click.echo(f"Regions: {', '.join(result.regions) or '-'}")
    click.echo(f"Partners: {', '.join(result.partners) or '-'}")
    groups = sum(result.group_scores.values())
    penalties = sum(result.penalties.values())
    comparison = ">=" if result.score >= result.threshold else "<"
    click.echo(
        f"Score: {groups:g} from groups - {penalties:g} penalties = {result.score:g} "
        f"{comparison} threshold {result.threshold:g}"
    )
    click.echo(f"Why: {result.reason}")


def _describe(term: TermPoints) -> str:
    """'région de <ma_regions> = Souss-Massa: "region de souss massa" in title (×2)'"""
    name = f"{term.term} = {term.place}" if term.place else term.term
    times = f" {term.count} times" if term.count > 1 else ""
    where = ", ".join(term.zones)
    return f'{name}: "{term.text}"{times} in {where} (×{term.multiplier:g})'
