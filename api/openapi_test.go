package api

import (
	"encoding/json"
	"fmt"
	"testing"
)

// The served OpenAPI document is what client generators read: no
// operation has "parameters": null, and every property a schema requires
// is one it defines (Redocly's lint found both: a PUT without parameters,
// and a product hit requiring sku and supplier_id it never defined).
func TestOpenAPIDocumentHasNoNullsAndDefinesWhatItRequires(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDocument((&Server{}).routeTable()), &doc); err != nil {
		t.Fatal(err)
	}
	ops := 0
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			ops++
			if v, ok := op.(map[string]any)["parameters"]; ok && v == nil {
				t.Errorf("%s %s: parameters is null", method, path)
			}
		}
	}
	if ops < 40 {
		t.Fatalf("%d operations: the walk found too few to mean anything", ops)
	}
	schemas := 0
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if req, ok := v["required"].([]any); ok {
				if props, ok := v["properties"].(map[string]any); ok {
					schemas++
					for _, r := range req {
						if _, ok := props[r.(string)]; !ok {
							t.Errorf("%s requires %q but does not define it", at, r)
						}
					}
				}
			}
			for k, c := range v {
				walk(at+"/"+k, c)
			}
		case []any:
			for i, c := range v {
				walk(fmt.Sprintf("%s/%d", at, i), c)
			}
		}
	}
	walk("#", doc)
	if schemas < 20 {
		t.Fatalf("%d schemas with required properties: the walk found too few to mean anything", schemas)
	}
}
