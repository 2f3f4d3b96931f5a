# Applies the integration edits to the repository root in the current
# directory. Run it once core/store, core/audit and core/keys are on main.
# It moves the files of _integration/ into place without their build
# tags, adds the store and audit sections to core/config and its
# reference, and wires the pipeline into core/daemon. Run it with
# "python3 _integration/integrate.py", then go mod tidy, go vet and the
# tests.
import json, os, re, subprocess, sys
root = os.getcwd()
rows = open('_integration/config-rows.md').read()
walkthrough = open('_integration/README.walkthrough.md').read()
# 1. move files
for dirpath, _, files in os.walk('_integration'):
    for name in files:
        src = os.path.join(dirpath, name)
        if dirpath == '_integration':
            continue
        dst = src[len('_integration/'):]
        s = open(src).read()
        s = s.replace('//go:build integration\n\n', '')
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        open(dst, 'w').write(s)
subprocess.run(['git', 'rm', '-rq', '_integration'], check=True)
# 2. config struct
p = 'core/config/config.go'
s = open(p).read()
s = s.replace('''	// Plugins sets the plugin directory, each plugin's configuration and
	// supervision.
	Plugins plugin.Config `json:"plugins"`
''', '''	// Plugins sets the plugin directory, each plugin's configuration and
	// supervision.
	Plugins plugin.Config `json:"plugins"`
	// Store selects the resource store's database. Its data_dir defaults
	// to DataDir.
	Store store.Config `json:"store"`
	// Audit selects the audit trail's database, by default the store's.
	// Its data_dir defaults to DataDir.
	Audit audit.Config `json:"audit"`
''')
s = s.replace('\t"github.com/healthhub/healthhub/core/auth"\n', '\t"github.com/healthhub/healthhub/core/audit"\n\t"github.com/healthhub/healthhub/core/auth"\n', 1)
s = s.replace('\t"github.com/healthhub/healthhub/core/schema"\n', '\t"github.com/healthhub/healthhub/core/schema"\n\t"github.com/healthhub/healthhub/core/store"\n', 1)
s = re.sub(r'\n\t// TODO: the store and audit sections take the Config types of\n(\t//[^\n]*\n)+', '\n', s)
open(p, 'w').write(s)
# 3. config schema
p = 'core/config/config.schema.json'
doc = json.load(open(p))
dur = {"$ref": "#/$defs/duration"}
db = {"driver": {"enum": ["sqlite", "postgres"]}, "data_dir": {"type": "string", "minLength": 1},
      "path": {"type": "string", "minLength": 1}, "url": {"type": "string", "pattern": "^postgres(ql)?://"},
      "synchronous": {"enum": ["full", "normal", "off"]}, "pool_size": {"type": "integer", "minimum": 1},
      "busy_timeout_ms": {"type": "integer", "minimum": 0}}
store = dict(db); store.update({"default_count": {"type": "integer", "minimum": 1}, "max_count": {"type": "integer", "minimum": 1}, "blob_threshold_bytes": {"type": "integer", "minimum": 1}})
audit = dict(db); audit.update({"group_commit_window_us": {"type": "integer", "minimum": 0}, "max_batch": {"type": "integer", "minimum": 1}, "checkpoint_every": {"type": "integer", "minimum": 1}, "checkpoint_interval_s": {"type": "integer", "minimum": 1}})
pg = {"if": {"properties": {"driver": {"const": "postgres"}}, "required": ["driver"]}, "then": {"required": ["url"]}}
doc["properties"]["store"] = dict({"type": "object", "additionalProperties": False, "properties": store}, **pg)
doc["properties"]["audit"] = dict({"type": "object", "additionalProperties": False, "properties": audit}, **pg)
# write: keep the existing text and append sections before the closing of properties
text = open(p).read()
marker = '\n  },\n  "$defs"'
assert marker in text
extra = ''
for key in ["store", "audit"]:
    extra += ',\n    ' + json.dumps(key) + ': ' + json.dumps(doc["properties"][key], indent=2, ensure_ascii=False).replace('\n', '\n    ')
text = text.replace(marker, extra + marker, 1)
json.loads(text)
open(p, 'w').write(text)
print("integrated")
# 4. docs rows
p = 'docs/configuration.md'
s = open(p).read()
anchor = '| `plugins.restart.crash_window` | `HUB_PLUGINS_RESTART_CRASH_WINDOW` | duration | `1m` | window in which crashes are counted |\n'
assert anchor in s
s = s.replace(anchor, anchor + rows)
s = re.sub(r'The sections `store`, `audit`, `policy` and `schema` take the settings of\n.*?`HUB_STORE_URL`\.\n', 'The store and the audit trail share one SQLite file, `hub.db` in the data\ndirectory, unless they are pointed elsewhere.\n', s, flags=re.S)
open(p, 'w').write(s)
# 5. daemon wiring
p = 'core/daemon/daemon.go'
s = open(p).read()
s = re.sub(r'\t// TODO: open core/store and core/audit.*?server.RegisterPipeline\.\n', '''\tpipeline, err := openPipeline(ctx, cfg, server, host, engine, recorder, logger)
\tif err != nil {
\t\t_ = host.Close()
\t\treturn nil, err
\t}
\tserver.RegisterPipeline(pipeline)
''', s, flags=re.S)
s = s.replace('return &Daemon{cfg: cfg, logger: logger, server: server, metrics: recorder, plugins: host}, nil',
              'return &Daemon{cfg: cfg, logger: logger, server: server, metrics: recorder, plugins: host, pipeline: pipeline}, nil')
s = s.replace('''	plugins *plugin.Host
}''', '''	plugins *plugin.Host
	// pipeline holds the parts every data request goes through.
	pipeline *api.Pipeline
}''', 1)
open(p, 'w').write(s)
# 6. README walk-through before the API key paragraph of "Run the hub"
p = 'README.md'
s = open(p).read()
anchor = 'Service accounts use API keys'
assert anchor in s
s = s.replace(anchor, walkthrough + '\n' + anchor, 1)
open(p, 'w').write(s)
print("docs, daemon and README done")
