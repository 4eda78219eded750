#!/usr/bin/env python3
"""Writes cases.json: the expressions the Nunjucks-compatibility suite (../nunjitsu.test.mjs) renders
with nunjitsu, the engine Backstage's scaffolder renders templates with, and with Stagedoor, one
context for all. Our own cases: what real templates write, plus the corners around it."""
import json
import os
context = {
  "parameters": {
    "name": "Payments API", "component_id": "payments-api", "owner": "group:default/team-payments",
    "count": 3, "ratio": 2.5, "zero": 0, "enabled": True, "disabled": False, "empty": "", "nothing": None,
    "tags": ["rust", "api", "payments"], "ports": [8080, 9090], "nested": {"a": {"b": "deep"}},
    "repoUrl": "github.com?owner=acme&repo=payments", "people": [
      {"name": "Ann", "team": "a", "age": 31}, {"name": "Bob", "team": "b", "age": 25}, {"name": "Cid", "team": "a", "age": 40}],
    "labels": {"tier": "1", "region": "eu"}, "text": "  Hello, World  ", "multiline": "one\ntwo\nthree",
    "html": "<b>bold</b> & co", "mixed": ["b", "A", "c"], "numbers": [3, 1, 2], "long": "The quick brown fox jumps over the lazy dog",
  },
  "steps": {"fetch": {"output": {"url": "https://example.test/repo", "count": 2}}, "publish-repo": {"output": {"remoteUrl": "https://git.example/acme/payments.git"}}},
  "user": {"ref": "user:default/ann", "entity": {"metadata": {"name": "ann"}, "spec": {"profile": {"displayName": "Ann Example", "email": "ann@example.test"}}}},
  "secrets": {"token": "s3cr3t"},
  "context": {"task": {"id": "0f1e2d3c"}},
  "each": {"key": "1", "value": {"name": "web"}},
  "cookiecutter": {"name": "svc", "tags": ["a", "b"], "port": 8080},
}
T = []  # (template, value?)
def t(*xs, value=False):
    for x in xs: T.append((x, value))
def v(*xs): t(*xs, value=True)

# lookups and typed values
v("${{ parameters.count }}", "${{ parameters.ratio }}", "${{ parameters.enabled }}", "${{ parameters.disabled }}",
  "${{ parameters.tags }}", "${{ parameters.nested }}", "${{ parameters.nothing }}", "${{ parameters.missing }}",
  "${{ parameters.empty }}", "${{ parameters.zero }}", "${{ parameters.missing.deeper.still }}",
  "${{ steps.fetch.output.count }}", "${{ steps['publish-repo'].output.remoteUrl }}", "${{ steps[\"fetch\"].output }}",
  "${{ user.entity.spec.profile.email }}", "${{ user.ref }}", "${{ context.task.id }}", "${{ each.value.name }}", "${{ each.key }}",
  "${{ parameters.count }} items", " ${{ parameters.count }}", "${{ parameters.count }}${{ parameters.count }}",
  "${{ parameters.tags[0] }}", "${{ parameters.tags[-1] }}", "${{ parameters.tags.length }}", "${{ parameters.name.length }}",
  "${{ parameters['component_id'] }}", "${{ parameters.labels.tier }}", "${{ [1, 2, 3] }}", "${{ {\"a\": 1} }}",
  "${{ {a: 1, b: parameters.count} }}", "${{ 'text' }}", "${{ 42 }}", "${{ -7 }}", "${{ 1.5 }}", "${{ true }}", "${{ none }}", "${{ null }}",
  "${{ parameters.count + 1 }}", "${{ parameters.count * parameters.ratio }}", "${{ parameters.count / 2 }}",
  "${{ parameters.count // 2 }}", "${{ 7 % 3 }}", "${{ 2 ** 10 }}", "${{ 'a' + 'b' }}", "${{ 'a' ~ 1 }}", "${{ 1 + '2' }}",
  "${{ parameters.count > 2 }}", "${{ parameters.count == 3 }}", "${{ parameters.count === 3 }}", "${{ parameters.count !== 3 }}",
  "${{ parameters.count != '3' }}", "${{ parameters.count == '3' }}", "${{ 'rust' in parameters.tags }}", "${{ 'go' not in parameters.tags }}",
  "${{ 'ay' in 'Payments' }}", "${{ parameters.enabled and parameters.count }}", "${{ parameters.disabled or 'fallback' }}",
  "${{ parameters.empty or parameters.name }}", "${{ not parameters.enabled }}", "${{ parameters.zero or 'zero' }}",
  "${{ 'yes' if parameters.enabled else 'no' }}", "${{ 'yes' if parameters.disabled }}", "${{ (1 + 2) * 3 }}",
  "${{ parameters.count is defined }}", "${{ parameters.missing is defined }}", "${{ parameters.missing is undefined }}",
  "${{ parameters.count is odd }}", "${{ parameters.count is even }}", "${{ parameters.count is number }}", "${{ parameters.name is string }}",
  "${{ parameters.nothing is none }}", "${{ parameters.count is divisibleby(3) }}", "${{ parameters.tags is iterable }}",
  "${{ parameters.labels is mapping }}", "${{ parameters.name is lower }}", "${{ 'abc' is lower }}", "${{ parameters.enabled is truthy }}",
  "${{ parameters.count is sameas(3) }}", "${{ parameters.count is eq(3) }}", "${{ parameters.count is gt(2) }}",
  "${{ parameters.name | lower }}", "${{ parameters.name | upper }}", "${{ parameters.name | replace(' ', '-') | lower }}",
  "${{ parameters.tags | join(',') }}", "${{ parameters.tags | join }}", "${{ parameters.people | join(', ', 'name') }}",
  "${{ parameters.missing | default('dflt') }}", "${{ parameters.empty | default('dflt') }}", "${{ parameters.empty | default('dflt', true) }}",
  "${{ parameters.nothing | default('dflt') }}", "${{ parameters.missing | d('short') }}", "${{ parameters.text | trim }}",
  "${{ parameters.long | truncate(9) }}", "${{ parameters.long | truncate(9, true) }}", "${{ parameters.long | truncate(9, false, '!') }}",
  "${{ parameters.numbers | sort }}", "${{ parameters.numbers | sort(true) }}", "${{ parameters.mixed | sort }}", "${{ parameters.mixed | sort(false, true) }}",
  "${{ parameters.people | sort(attribute='age') | map(attribute='name') | list }}", "${{ parameters.people | sort(false, false, 'age') | join(',', 'name') }}",
  "${{ parameters.numbers | first }}", "${{ parameters.numbers | last }}", "${{ parameters.name | first }}", "${{ parameters.tags | length }}",
  "${{ parameters.labels | length }}", "${{ parameters.name | length }}", "${{ parameters.missing | length }}",
  "${{ parameters.tags | reverse }}", "${{ parameters.name | reverse }}", "${{ parameters.numbers | sum }}", "${{ parameters.people | sum('age') }}",
  "${{ parameters.people | selectattr('team', 'equalto', 'a') | join(',', 'name') }}", "${{ parameters.people | rejectattr('team', 'equalto', 'a') | join(',', 'name') }}",
  "${{ parameters.numbers | select('odd') }}", "${{ parameters.numbers | reject('odd') }}", "${{ parameters.people | selectattr('age') | length }}",
  "${{ parameters.tags | batch(2) }}", "${{ parameters.tags | batch(2, 'x') }}", "${{ parameters.tags | slice(2) }}",
  "${{ parameters.name | capitalize }}", "${{ 'hello world' | title }}", "${{ -3 | abs }}", "${{ 2.567 | round(1) }}", "${{ 2.5 | round }}",
  "${{ 2.567 | round(0, 'floor') }}", "${{ '42' | int }}", "${{ '4.2' | float }}", "${{ 'x' | int }}", "${{ 'x' | int(7) }}", "${{ 3 | string }}",
  "${{ parameters.tags | list }}", "${{ 'abc' | list }}", "${{ parameters.labels | dictsort }}", "${{ parameters.people | groupby('team') | length }}",
  "${{ parameters.name | urlencode }}", "${{ parameters.labels | urlencode }}", "${{ parameters.multiline | indent(2) }}", "${{ parameters.multiline | indent(2, true) }}",
  "${{ parameters.long | wordcount }}", "${{ 'ab' | center(6) }}", "${{ parameters.html | escape }}", "${{ parameters.html | striptags }}",
  "${{ parameters.multiline | nl2br }}", "${{ parameters.html | safe }}", "${{ parameters.name | replace('a', 'o', 1) }}",
  "${{ parameters.nested | dump }}", "${{ parameters.tags | dump }}", "${{ parameters.nested | dump(2) }}", "${{ parameters.name | dump }}",
  "${{ parameters.count | dump }}", "${{ parameters.missing | dump }}", "${{ parameters.labels | dictsort | first }}",
  "${{ parameters.tags | random | length > 0 }}", "${{ parameters.component_id | replace(r/-/g, '_') }}", "${{ 'a1b2' | replace(r/[0-9]/g, '') }}",
  "${{ r/ab+c/i.test('xABBCx') }}", "${{ parameters.name.toLowerCase() }}", "${{ parameters.name.split(' ') }}", "${{ parameters.name.replace('API', 'Service') }}",
  "${{ parameters.component_id.startsWith('pay') }}", "${{ parameters.tags.join('|') }}", "${{ parameters.tags.indexOf('api') }}",
  "${{ parameters.name.toUpperCase().length }}", "${{ parameters.text.trim() }}", "${{ parameters.tags.includes('api') }}",
  "${{ parameters.tags.slice(1) }}", "${{ parameters.name.substring(0, 3) }}", "${{ parameters.owner.split(':')[1] }}",
  "${{ range(3) }}", "${{ range(1, 4) }}", "${{ range(0, 10, 5) }}", "${{ [1,2] + [3] }}", "${{ 'x' * 3 }}",
  "${{ parameters.labels['region'] }}", "${{ parameters.people[1].name }}", "${{ parameters.people | map(attribute='age') | max }}",
  "${{ parameters.tags | first | upper }}", "${{ (parameters.tags | first) + '!' }}", "${{ parameters['nested']['a']['b'] }}",
  "${{ joiner }}", "${{ cycler('a','b').next() }}", "${{ lipsum }}",
)
# text rendering: statements, whitespace control, loops, set, raw, macros, comments
t("Hello ${{ parameters.name }}!", "${{ parameters.tags }}", "${{ parameters.nested }}", "${{ parameters.nothing }}|${{ parameters.missing }}|",
  "${{ parameters.enabled }} ${{ parameters.disabled }} ${{ parameters.ratio }}", "${{ 1 / 3 }}", "${{ 10 / 2 }}", "${{ 0.1 + 0.2 }}", "${{ 1e21 }}",
  "{% if parameters.enabled %}on{% else %}off{% endif %}", "{% if parameters.disabled %}on{% elif parameters.count > 2 %}many{% else %}few{% endif %}",
  "{% if parameters.disabled %}on{% elseif parameters.count %}elseif{% endif %}", "{% if not parameters.tags %}none{% endif %}|",
  "{% if parameters.nothing %}x{% endif %}|", "{% if [] %}empty list truthy{% endif %}|", "{% if {} %}empty object truthy{% endif %}|",
  "{% for t in parameters.tags %}${{ loop.index }}:${{ t }} {% endfor %}", "{% for t in parameters.tags %}${{ loop.index0 }}${{ loop.first }}${{ loop.last }}${{ loop.length }}${{ loop.revindex }}|{% endfor %}",
  "{% for k, v in parameters.labels %}${{ k }}=${{ v }};{% endfor %}", "{% for p in parameters.people %}${{ p.name }}{% if not loop.last %}, {% endif %}{% endfor %}",
  "{% for x in [] %}x{% else %}empty{% endfor %}", "{% for x in parameters.missing %}x{% else %}none{% endfor %}",
  "{% for a, b in [[1, 2], [3, 4]] %}${{ a + b }} {% endfor %}", "{% for t in parameters.tags | sort %}${{ t }} {% endfor %}",
  "{% set x = parameters.count * 2 %}${{ x }}", "{% set a, b = 1 %}${{ a }}${{ b }}", "{% set block %}inner ${{ parameters.count }}{% endset %}[${{ block }}]",
  "{% set x = 1 %}{% for i in [1,2] %}{% set x = i %}{% endfor %}${{ x }}", "{% set x = 1 %}{% if true %}{% set x = 2 %}{% endif %}${{ x }}",
  "{% raw %}${{ not rendered }}{% endraw %}", "{% raw %}{% if %}{% endraw %}", "a{# a comment #}b", "a {#- trimmed -#} b",
  "a\n  {%- if true %}\n  b\n  {%- endif %}\nc", "a   {%- if true -%}   b   {%- endif -%}   c", "x  ${{- parameters.count -}}  y",
  "line1\n{% if true %}\nline2\n{% endif %}\nline3", "trailing newline\n", "\n\nleading", "a\r\nb",
  "{% macro greet(who, punct='!') %}Hi ${{ who }}${{ punct }}{% endmacro %}${{ greet('Ann') }} ${{ greet('Bob', '?') }}",
  "{% macro m(x) %}[${{ x }}]{% endmacro %}{% for t in parameters.tags %}${{ m(t) }}{% endfor %}",
  "{% macro wrap() %}<${{ caller() }}>{% endmacro %}{% call wrap() %}body{% endcall %}",
  "{% filter upper %}shout ${{ parameters.component_id }}{% endfilter %}", "{% set items = [1,2,3] %}${{ items | join('+') }}=${{ items | sum }}",
  "${{ parameters.people | groupby('team') | dump }}", "{% for g in parameters.people | groupby('team') %}${{ g.grouper }}:${{ g.list | length }} {% endfor %}",
  "{% for k, v in parameters.labels | dictsort %}${{ k }}{% endfor %}", "${{ 'a\\nb' }}", "${{ \"it's\" }}", "${{ 'say \"hi\"' }}",
  "${{ parameters.name | replace('Payments', '') | trim }}", "${{ parameters.long | truncate(20) }}.", "${{ parameters.count | round }}",
  "${{ 3.0 }}", "${{ 10 // 3 }}", "${{ -10 // 3 }}", "${{ 2 ** 0.5 }}", "${{ 7 / 0 }}", "${{ 'abc'[1] }}", "${{ parameters.tags[5] }}|",
  "${{ parameters.component_id | upper if parameters.enabled else 'n/a' }}", "${{ 'x' if none else 'y' }}",
  "{% for i in range(3) %}${{ i }}{% endfor %}", "{% for i in range(3) %}{% if i == 1 %}{% continue %}{% endif %}${{ i }}{% endfor %}",
  "{% for i in range(5) %}{% if i == 2 %}{% break %}{% endif %}${{ i }}{% endfor %}", "{% for x in 'abc' %}${{ x }}.{% endfor %}",
  "{% for x in parameters.numbers | reverse %}${{ x }}{% endfor %}", "{% if parameters.count in [1, 2, 3] %}small{% endif %}",
  "{% if 'api' in parameters.tags and parameters.enabled %}api on{% endif %}", "${{ parameters.name | lower | replace(' ', '_') | truncate(5, true, '') }}",
  "{{ not an expression }}", "${ not either }", "$${{ parameters.count }}", "${{ '}}' }}", "{%- if true -%} x {%- endif -%}",
  "${{ parameters.nested.a }}", "${{ [1, [2, 3]] }}", "${{ {'k': [1]} }}", "${{ parameters.people[0] }}",
  "{% switch parameters.count %}{% case 1 %}one{% case 3 %}three{% default %}other{% endswitch %}",
  "{% if parameters.count > 1 -%}\n  many\n{%- endif %}", "${{ parameters.tags | join(', ') | upper }}",
  "{% set greeting = 'Hi' %}{% macro g() %}${{ greeting }}{% endmacro %}${{ g() }}",
  "${{ parameters.name | truncate }}", "${{ parameters.tags | join(parameters.labels.tier) }}",
)
# errors (both sides should fail)
t("${{ parameters.name | nosuchfilter }}", "{% if %}", "${{ ", "{% for x in %}{% endfor %}", "{% endif %}", "${{ parameters.name( }}",
  "${{ undefinedFunction() }}", "{% include 'other.njk' %}", "{% extends 'base.njk' %}", "{% import 'm.njk' as m %}")
cases = [{"template": x, **({"value": True} if val else {})} for x, val in T]
# skeletons rendered by fetch:template with cookiecutterCompat: {{ }} delimiters, jsonify
cases += [{"template": x, "cookiecutterCompat": True} for x in (
  "{{ cookiecutter.name }}", "{{ cookiecutter.tags | jsonify }}", "{{ cookiecutter.port + 1 }}",
  "{% if cookiecutter.name %}{{ cookiecutter.name | upper }}{% endif %}", "${{ cookiecutter.name }}",
  "{% for t in cookiecutter.tags %}{{ loop.index }}={{ t }} {% endfor %}", "{{ cookiecutter.missing }}|",
  "{{ cookiecutter.name.toUpperCase() }}", "{{ cookiecutter.tags }}", "{% raw %}{{ kept }}{% endraw %}")]
seen = set(); out = []
for c in cases:
    k = (c["template"], c.get("value", False), c.get("cookiecutterCompat", False))
    if k in seen: continue
    seen.add(k); out.append(c)
json.dump({"context": context, "cases": out}, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cases.json'), 'w'), indent=1)
print(len(out), 'cases')
