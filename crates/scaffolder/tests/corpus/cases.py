"""The dry-run corpus: each case is a template, values, secrets and skeleton files. `record.py`
asks the real Backstage scaffolder (the oracle) and writes its answer beside the case; the Rust
test `tests/corpus.rs` runs each case through Stagedoor and compares with the recorded answer."""

def tpl(name, steps, parameters=None, output=None):
    return {"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
            "metadata": {"name": name, "title": name.title()},
            "spec": {"type": "service", "parameters": parameters or [], "steps": steps, "output": output or {}}}

CASES = {}

CASES["basic"] = dict(
    template=tpl("basic",
        [{"id": "fetch", "name": "Fetch skeleton", "action": "fetch:template",
          "input": {"url": "./skeleton", "values": {"name": "${{ parameters.name }}", "count": "${{ parameters.count }}",
                                                   "owner": "${{ parameters.owner }}"}}},
         {"id": "log", "name": "Say hello", "action": "debug:log", "input": {"message": "Created ${{ parameters.name }} x${{ parameters.count }}"}}],
        parameters=[{"title": "Basics", "required": ["name", "owner"], "properties": {
            "name": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
            "count": {"type": "number", "minimum": 1, "default": 1},
            "owner": {"type": "string", "ui:field": "OwnerPicker"}}}],
        output={"links": [{"title": "Repository", "url": "https://example.com/${{ parameters.name }}"}],
                "text": [{"title": "Next", "content": "Count is ${{ parameters.count }}"}],
                "count": "${{ parameters.count }}", "missing": "${{ parameters.nothing }}"}),
    values={"name": "payments", "count": 3, "owner": "group:default/team-a"},
    files={"skeleton/README.md": "# ${{ values.name }}\n\nOwned by ${{ values.owner }}; ${{ values.count | dump }} replicas.\n",
           "skeleton/src/${{ values.name }}.txt": "name=${{ values.name | upper }}\n",
           "skeleton/docs/index.md": "plain text, no expressions\n"})

CASES["filters"] = dict(
    template=tpl("filters",
        [{"id": "fetch", "action": "fetch:template",
          "input": {"url": "./skeleton", "values": {"p": "${{ parameters }}", "name": "${{ parameters.name }}"}}}],
        parameters={"properties": {"name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
                                    "repoUrl": {"type": "string"}, "owner": {"type": "string"}}}),
    values={"name": "  My Service  ", "tags": ["web", "api", "core"], "repoUrl": "github.com?owner=acme&repo=payments",
            "owner": "group:default/team-a", "people": [{"n": "zoe", "age": 3}, {"n": "al", "age": 4}]},
    files={"skeleton/out.txt": "\n".join([
        "trim=[${{ values.name | trim }}]",
        "lower=${{ values.name | trim | lower }}",
        "upper=${{ values.name | trim | upper }}",
        "replace=${{ values.name | trim | replace(' ', '-') }}",
        "dump=${{ values.p.tags | dump }}",
        "join=${{ values.p.tags | join(', ') }}",
        "joinattr=${{ values.p.people | join('/', 'n') }}",
        "default=${{ values.p.nope | default('fallback') }}",
        "truncate=${{ 'the quick brown fox jumps' | truncate(14) }}",
        "sort=${{ values.p.tags | sort | join(',') }}",
        "sortrev=${{ values.p.tags | sort(true) | join(',') }}",
        "length=${{ values.p.tags | length }}",
        "first=${{ values.p.tags | first }} last=${{ values.p.tags | last }}",
        "batch={% for row in values.p.tags | batch(2) %}[${{ row | join(',') }}]{% endfor %}",
        "select=${{ [1, 2, 3, 4] | select('odd') | join(',') }}",
        "repo=${{ (values.p.repoUrl | parseRepoUrl).repo }} owner=${{ (values.p.repoUrl | parseRepoUrl).owner }}",
        "slug=${{ values.p.repoUrl | projectSlug }}",
        "ref=${{ (values.p.owner | parseEntityRef).name }} kind=${{ (values.p.owner | parseEntityRef).kind }}",
        "pick=${{ values.p | pick('people') | length }}",
        "loop={% for t in values.p.tags %}${{ loop.index }}:${{ t }}{% if not loop.last %},{% endif %}{% endfor %}",
        "{% set greeting = 'hi ' + (values.name | trim) %}set=${{ greeting }}",
        "raw={% raw %}${{ untouched }}{% endraw %}",
        "ws=a  {%- if true %} b {% endif -%}  c",
        "cond=${{ 'yes' if values.p.tags | length > 2 else 'no' }}",
        "{# a comment #}end",
        ""])})

CASES["each_if_fs"] = dict(
    template=tpl("each-if-fs",
        [{"id": "fetch", "action": "fetch:template", "input": {"url": "./skeleton", "values": {"name": "${{ parameters.name }}"}}},
         {"id": "perservice", "each": "${{ parameters.services }}", "action": "fetch:template:file",
          "input": {"url": "./one.txt", "targetPath": "services/${{ each.value }}.txt", "values": {"svc": "${{ each.value }}", "i": "${{ each.key }}"}}},
         {"id": "skipped", "if": "${{ parameters.withDocs }}", "action": "debug:log", "input": {"message": "docs on"}},
         {"id": "rename", "action": "fs:rename", "input": {"files": [{"from": "old.txt", "to": "renamed/new.txt"}]}},
         {"id": "delete", "action": "fs:delete", "input": {"files": ["junk/**", "*.tmp"]}},
         {"id": "list", "action": "fs:readdir", "input": {"paths": ["services"]}},
         {"id": "report", "action": "debug:log", "input": {"message": "files: ${{ steps['list'].output.files | length }} first=${{ steps.list.output.files[0].name }}"}}],
        parameters=[{"properties": {"name": {"type": "string"}, "services": {"type": "array"}, "withDocs": {"type": "boolean"}}}],
        output={"names": "${{ steps.list.output.files | join(',', 'name') }}"}),
    values={"name": "demo", "services": ["api", "worker"], "withDocs": False},
    files={"skeleton/old.txt": "old ${{ values.name }}\n", "skeleton/junk/a.txt": "x", "skeleton/junk/b/c.txt": "y",
           "skeleton/keep.tmp": "tmp", "skeleton/keep.md": "md", "one.txt": "service ${{ values.svc }} #${{ values.i }}\n"})

CASES["copy_without_templating"] = dict(
    template=tpl("cwt",
        [{"id": "a", "action": "fetch:template", "input": {"url": "./skeleton", "targetPath": "./app",
          "values": {"name": "x"}, "copyWithoutTemplating": [".github/workflows/*"]}},
         {"id": "b", "action": "fetch:template", "input": {"url": "./njk", "targetPath": "njk",
          "values": {"name": "y"}, "templateFileExtension": True}},
         {"id": "c", "action": "fetch:plain", "input": {"url": "./plain", "targetPath": "plain"}},
         {"id": "d", "action": "catalog:write", "input": {"filePath": "app/catalog-info.yaml", "entity": {
             "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
             "metadata": {"name": "${{ parameters.name }}", "tags": ["a"]}, "spec": {"type": "service", "owner": "team-a", "lifecycle": "experimental"}}}}],
        parameters={"properties": {"name": {"type": "string"}}}),
    values={"name": "svc"},
    files={"skeleton/.github/workflows/ci.yml": "run: ${{ github.sha }}\n", "skeleton/${{ values.name }}.md": "# ${{ values.name }}\n",
           "njk/README.md.njk": "# ${{ values.name }}\n", "njk/static.md": "${{ values.name }} stays\n",
           "plain/p.txt": "${{ not templated }}\n"})

CASES["secrets"] = dict(
    template=tpl("secrets", [{"id": "log", "action": "debug:log", "input": {"message": "token is ${{ secrets.token }}"}}]),
    values={}, secrets={"token": "hunter2-very-secret"}, files={})

# Errors, each with Backstage's status and envelope.
CASES["err_values"] = dict(
    template=tpl("ev", [{"id": "a", "action": "debug:log", "input": {"message": "x"}}],
        parameters=[{"title": "One", "properties": {"a": {"type": "string"}}},
                    {"title": "Two", "required": ["kind", "list"], "properties": {
                        "kind": {"type": "string", "enum": ["a", "b"]}, "n": {"type": "integer", "maximum": 5},
                        "s": {"type": "string", "minLength": 3},
                        "list": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["k"], "properties": {"k": {"type": "string"}}}}},
                     "dependencies": {"kind": {"oneOf": [{"properties": {"kind": {"enum": ["a"]}, "x": {"type": "string"}}, "required": ["x"]},
                                                         {"properties": {"kind": {"enum": ["b"]}}}]}}}]),
    values={"kind": "c", "n": 2.5, "s": "ab", "list": [{"k": 1}, {}]}, files={})
CASES["err_unknown_action"] = dict(template=tpl("ua", [{"id": "a", "action": "nope:x", "input": {}}]), values={}, files={})
CASES["err_target_escape"] = dict(
    template=tpl("te", [{"id": "a", "action": "fetch:template", "input": {"url": "./s", "targetPath": "../outside"}}]),
    values={}, files={"s/a.txt": "hi"})
CASES["err_absolute_target"] = dict(
    template=tpl("ta", [{"id": "a", "action": "fetch:template", "input": {"url": "./s", "targetPath": "/etc"}}]),
    values={}, files={"s/a.txt": "hi"})
CASES["err_url_escape"] = dict(
    template=tpl("ue", [{"id": "a", "action": "fetch:template", "input": {"url": "../../../etc"}}]),
    values={}, files={"s/a.txt": "hi"})
CASES["err_render"] = dict(
    template=tpl("re", [{"id": "a", "action": "fetch:template", "input": {"url": "./s"}}]),
    values={}, files={"s/a.txt": "hi ${{ values.x | nofilter }}"})
CASES["err_action_input"] = dict(
    template=tpl("ai", [{"id": "a", "action": "debug:log", "input": {"message": "x", "bogus": 1}}]),
    values={}, files={})

# The benchmark's skeleton (examples/dry_run_bench.rs): 50 files, names and contents rendered.
CASES["fifty_files"] = dict(
    template={**tpl("bench",
        [{"id": "fetch", "action": "fetch:template", "input": {"url": "./skeleton", "values": {
            "name": "${{ parameters.name }}", "owner": "team-a", "tags": ["a", "b", "c"],
            "description": "A service that does one thing well and nothing else at all"}}}],
        parameters=[{"required": ["name"], "properties": {"name": {"type": "string"}}}],
        output={"links": [{"title": "x", "url": "${{ parameters.name }}"}]})},
    values={"name": "bench-service"},
    files={("skeleton/%s/f%d.md" % ("src/${{ values.name }}" if i % 5 == 0 else "docs", i)):
           ("# ${{ values.name }} file %d\n\nOwner: ${{ values.owner | upper }}\n{%% for t in values.tags %%}- ${{ t }}\n{%% endfor %%}Description: ${{ values.description | truncate(40) }}\n%s\n"
            % (i, "Some plain text of the skeleton that is copied as it is.\n" * 20)) for i in range(50)})
