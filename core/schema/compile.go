package schema

import (
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/healthhub/healthhub/schemas"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// baseURL is the URL under which the schema documents are registered with
// the compiler. Refs between documents are relative, so they resolve inside
// this tree and never reach the network.
const baseURL = "hub:///"

const schemaSuffix = ".schema.json"

var resourceFileName = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

// compiled is everything a Validator needs per request, built once by
// compile. It is never modified afterwards.
type compiled struct {
	resources resourceSchemas
	requests  map[string]*jsonschema.Schema
	// docs holds every parsed schema document by URL, to look up the
	// declared properties of a schema when an issue suggests a name.
	docs map[string]any
	// urls holds the URL each resource schema was compiled from.
	urls map[string]string
	// bundleShell is the Bundle schema with nested resources checked for a
	// known type but not validated, for validating entries concurrently.
	bundleShell *jsonschema.Schema
}

// compile loads the embedded documents, overlays cfg.Dir, and compiles the
// resource and request schemas.
func compile(cfg Config) (*compiled, error) {
	docs, fromDir, err := loadDocuments(cfg.Dir)
	if err != nil {
		return nil, err
	}
	out := &compiled{
		resources: resourceSchemas{},
		requests:  map[string]*jsonschema.Schema{},
		docs:      docs,
		urls:      map[string]string{},
	}

	c, err := newCompiler(out.resources, dispatchValidate)
	if err != nil {
		return nil, err
	}
	for _, u := range sortedKeys(docs) {
		if err := c.AddResource(u, docs[u]); err != nil {
			return nil, fmt.Errorf("compile schemas: add %s: %w", strings.TrimPrefix(u, baseURL), err)
		}
	}

	local := documentsUnder(docs, "fhir/")
	if cfg.Strict {
		profiles := map[string]string{}
		for rt, u := range local {
			if fromDir[u] {
				profiles[rt] = u
			}
		}
		if err := out.compileStrict(c, profiles); err != nil {
			return nil, err
		}
	} else {
		for rt, u := range local {
			if out.resources[rt], err = c.Compile(u); err != nil {
				return nil, fmt.Errorf("compile schemas: %s: %w", strings.TrimPrefix(u, baseURL), err)
			}
			out.urls[rt] = u
		}
	}
	if err := out.compileBundleShell(); err != nil {
		return nil, err
	}

	for name, u := range documentsUnder(docs, "hub/") {
		if out.requests[name], err = c.Compile(u); err != nil {
			return nil, fmt.Errorf("compile schemas: %s: %w", strings.TrimPrefix(u, baseURL), err)
		}
	}
	return out, nil
}

func newCompiler(types resourceSchemas, mode dispatchMode) (*jsonschema.Compiler, error) {
	vocab, err := newVocabulary(types, mode)
	if err != nil {
		return nil, fmt.Errorf("compile schemas: vocabulary: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.AssertVocabs()
	c.RegisterVocabulary(vocab)
	for _, f := range fhirFormats() {
		c.RegisterFormat(f)
	}
	c.UseLoader(missingLoader{})
	return c, nil
}

// compileBundleShell compiles the Bundle schema a second time with the
// fhirResource keyword in dispatchCheckType mode.
func (c *compiled) compileBundleShell() error {
	u, ok := c.urls["Bundle"]
	if !ok {
		return nil
	}
	shell, err := newCompiler(c.resources, dispatchCheckType)
	if err != nil {
		return err
	}
	for _, docURL := range sortedKeys(c.docs) {
		if err := shell.AddResource(docURL, c.docs[docURL]); err != nil {
			return fmt.Errorf("compile schemas: Bundle shell: %w", err)
		}
	}
	if c.bundleShell, err = shell.Compile(u); err != nil {
		return fmt.Errorf("compile schemas: Bundle shell: %w", err)
	}
	return nil
}

// missingLoader is asked for any URL that no document was added under,
// which means a $ref names a file that does not exist.
type missingLoader struct{}

func (missingLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("schema document %s not found; refs must name files in the embedded tree or the schema directory", strings.TrimPrefix(u, baseURL))
}

// loadDocuments parses the embedded documents and those of dir, keyed by
// URL; a file in dir replaces the embedded file of the same path. fromDir
// holds the URLs whose document came from dir.
func loadDocuments(dir string) (docs map[string]any, fromDir map[string]bool, err error) {
	docs = map[string]any{}
	if _, err := readTree(schemas.FS, docs, "embedded"); err != nil {
		return nil, nil, err
	}
	if dir == "" {
		return docs, nil, nil
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("load schema directory: %w", err)
	}
	if !info.IsDir() {
		return nil, nil, fmt.Errorf("load schema directory: %s is not a directory", dir)
	}
	fromDir, err = readTree(os.DirFS(dir), docs, dir)
	if err != nil {
		return nil, nil, err
	}
	return docs, fromDir, nil
}

// readTree reads fhir/*.schema.json and hub/*.schema.json from fsys into
// docs and returns the URLs it read.
func readTree(fsys fs.FS, docs map[string]any, origin string) (map[string]bool, error) {
	read := map[string]bool{}
	for _, sub := range []string{"fhir", "hub"} {
		names, err := fs.Glob(fsys, sub+"/*"+schemaSuffix)
		if err != nil {
			return nil, fmt.Errorf("load schemas from %s: %w", origin, err)
		}
		for _, name := range names {
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				return nil, fmt.Errorf("load schemas from %s: %w", origin, err)
			}
			doc, err := Parse(data)
			if err != nil {
				return nil, fmt.Errorf("load schema %s from %s: %w", name, origin, err)
			}
			docs[baseURL+name] = doc
			read[baseURL+name] = true
		}
	}
	return read, nil
}

// documentsUnder returns the documents in folder dir ("fhir/" or "hub/") by
// the name before ".schema.json". Under fhir/ only resource type names count,
// which leaves out shared documents such as datatypes.schema.json.
func documentsUnder(docs map[string]any, dir string) map[string]string {
	out := map[string]string{}
	for u := range docs {
		name, ok := strings.CutPrefix(u, baseURL+dir)
		if !ok || strings.Contains(name, "/") {
			continue
		}
		name = strings.TrimSuffix(name, schemaSuffix)
		if dir == "fhir/" && !resourceFileName.MatchString(name) {
			continue
		}
		out[name] = u
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// schemaNode returns the schema object at a schema location, read from its
// parsed document, or nil when the location cannot be resolved.
func (c *compiled) schemaNode(schemaURL string) map[string]any {
	u, frag, _ := strings.Cut(schemaURL, "#")
	node, ok := c.docs[u]
	if !ok {
		return nil
	}
	for _, tok := range strings.Split(frag, "/")[1:] {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		obj, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		node = obj[tok]
	}
	obj, _ := node.(map[string]any)
	return obj
}

// declaredProperties returns the property names a schema declares.
func (c *compiled) declaredProperties(schemaURL string) []string {
	props, _ := c.schemaNode(schemaURL)["properties"].(map[string]any)
	return sortedKeys(props)
}

// fhirType returns the FHIR type that a schema location checks: the name of
// a "fhir-*" format, the name of a datatype definition, or the type whose
// official pattern the location uses. It returns "" for other locations.
func (c *compiled) fhirType(schemaURL string) string {
	node := c.schemaNode(schemaURL)
	if f, ok := node["format"].(string); ok {
		if name, ok := strings.CutPrefix(f, "fhir-"); ok {
			return name
		}
	}
	if p, ok := node["pattern"].(string); ok {
		if name, ok := officialPatternTypes[p]; ok {
			return name
		}
	}
	if strings.HasPrefix(schemaURL, baseURL+"fhir/") || isOfficialURL(schemaURL) {
		return fhirTypeName(schemaURL)
	}
	return ""
}

// description returns the description of the schema at a location, or "".
func (c *compiled) description(schemaURL string) string {
	d, _ := c.schemaNode(schemaURL)["description"].(string)
	return d
}
