package tools

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestNormaliseEveryAlias: each entry of the compatibility tables, old
// call → the call that runs (the replay test checks their results).
func TestNormaliseEveryAlias(t *testing.T) {
	for _, tc := range []struct {
		name, tool, in string
		wantTool, want string // want "" = the normalisation refuses, naming wantErr
		wantErr        string
	}{
		// entity_tool
		{"null dropped", "entity_tool", `{"entity_type":"project","operation":"list","limit":null}`, "entity_tool", `{"entity_type":"project","operation":"list"}`, ""},
		{"infer list", "entity_tool", `{"entity_type":"project"}`, "entity_tool", `{"entity_type":"project","operation":"list"}`, ""},
		{"infer read", "entity_tool", `{"entity_type":"project","entity_id":"x"}`, "entity_tool", `{"entity_type":"project","entity_id":"x","operation":"read"}`, ""},
		{"infer update", "entity_tool", `{"entity_type":"project","entity_id":"x","data":{"name":"y"}}`, "entity_tool", `{"entity_type":"project","entity_id":"x","data":{"name":"y"},"operation":"update"}`, ""},
		{"infer create", "entity_tool", `{"entity_type":"project","data":{"name":"y"}}`, "entity_tool", `{"entity_type":"project","data":{"name":"y"},"operation":"create"}`, ""},
		{"infer search", "entity_tool", `{"entity_type":"project","search_term":"y"}`, "entity_tool", `{"entity_type":"project","search_term":"y","operation":"search"}`, ""},
		{"infer batch", "entity_tool", `{"entity_type":"project","batch":[{"name":"y"}]}`, "entity_tool", `{"entity_type":"project","batch":[{"name":"y"}],"operation":"batch_create"}`, ""},
		{"create with batch", "entity_tool", `{"entity_type":"project","operation":"create","data":{"name":"x"},"batch":[{"name":"y"}]}`, "entity_tool", `{"entity_type":"project","batch":[{"name":"y"}],"operation":"batch_create"}`, ""},
		{"data list", "entity_tool", `{"entity_type":"project","operation":"batch_create","data":[{"name":"y"}]}`, "entity_tool", `{"entity_type":"project","batch":[{"name":"y"}],"operation":"batch_create"}`, ""},
		{"bulk_create", "entity_tool", `{"entity_type":"project","operation":"bulk_create","batch":[{"name":"y"}]}`, "entity_tool", `{"entity_type":"project","batch":[{"name":"y"}],"operation":"batch_create"}`, ""},
		{"archive", "entity_tool", `{"entity_type":"project","operation":"archive","entity_id":"x"}`, "entity_tool", `{"entity_type":"project","entity_id":"x","operation":"delete","soft_delete":true}`, ""},
		{"advanced_search", "entity_tool", `{"entity_type":"project","operation":"advanced_search","search_term":"x"}`, "entity_tool", `{"entity_type":"project","search_term":"x","operation":"search"}`, ""},
		{"filter-only search", "entity_tool", `{"entity_type":"project","operation":"search","filters":{"status":"active"}}`, "entity_tool", `{"entity_type":"project","filters":{"status":"active"},"operation":"list"}`, ""},
		{"conditions", "entity_tool", `{"entity_type":"project","operation":"list","conditions":{"status":"active"}}`, "entity_tool", `{"entity_type":"project","filters":{"status":"active"},"operation":"list"}`, ""},
		{"entities", "entity_tool", `{"entities":["project"],"operation":"list"}`, "entity_tool", `{"entity_type":"project","operation":"list"}`, ""},
		{"parent", "entity_tool", `{"entity_type":"document","operation":"list","parent_type":"project","parent_id":"p"}`, "entity_tool", `{"entity_type":"document","filters":{"project_id":"p"},"operation":"list"}`, ""},
		{"parent half", "entity_tool", `{"entity_type":"document","operation":"list","parent_id":"p"}`, "", "", "parent_type and parent_id"},
		{"is_deleted false", "entity_tool", `{"entity_type":"project","operation":"list","filters":{"is_deleted":false}}`, "entity_tool", `{"entity_type":"project","operation":"list"}`, ""},
		{"is_deleted true", "entity_tool", `{"entity_type":"project","operation":"list","filters":{"is_deleted":true}}`, "entity_tool", `{"entity_type":"project","operation":"list","include_deleted":true}`, ""},
		{"include_archived", "entity_tool", `{"entity_type":"project","operation":"list","include_archived":true}`, "entity_tool", `{"entity_type":"project","operation":"list","include_deleted":true}`, ""},
		{"pagination", "entity_tool", `{"entity_type":"project","operation":"list","pagination":{"limit":3,"offset":6}}`, "entity_tool", `{"entity_type":"project","operation":"list","limit":3,"offset":6}`, ""},
		{"include_relations", "entity_tool", `{"entity_type":"project","operation":"read","entity_id":"x","include_relations":true}`, "entity_tool", `{"entity_type":"project","operation":"read","entity_id":"x"}`, ""},
		{"order field:desc", "entity_tool", `{"entity_type":"project","operation":"list","order_by":"name:desc"}`, "entity_tool", `{"entity_type":"project","operation":"list","order_by":"name","order_desc":true}`, ""},
		{"order -field", "entity_tool", `{"entity_type":"project","operation":"list","order_by":"-name"}`, "entity_tool", `{"entity_type":"project","operation":"list","order_by":"name","order_desc":true}`, ""},
		{"order field DESC", "entity_tool", `{"entity_type":"project","operation":"list","order_by":"name DESC"}`, "entity_tool", `{"entity_type":"project","operation":"list","order_by":"name","order_desc":true}`, ""},
		{"order list", "entity_tool", `{"entity_type":"project","operation":"list","order_by":"name:asc, created_at:desc"}`, "entity_tool", `{"entity_type":"project","operation":"list","order_by":"name"}`, ""},
		{"limit clamped", "entity_tool", `{"entity_type":"project","operation":"list","limit":1000}`, "entity_tool", `{"entity_type":"project","operation":"list","limit":500}`, ""},
		{"limit string", "entity_tool", `{"entity_type":"project","operation":"list","limit":"7"}`, "entity_tool", `{"entity_type":"project","operation":"list","limit":7}`, ""},
		{"bool string", "entity_tool", `{"entity_type":"project","operation":"list","include_deleted":"true"}`, "entity_tool", `{"entity_type":"project","operation":"list","include_deleted":true}`, ""},
		{"filters JSON text", "entity_tool", `{"entity_type":"project","operation":"list","filters":"{\"status\":\"active\"}"}`, "entity_tool", `{"entity_type":"project","operation":"list","filters":{"status":"active"}}`, ""},
		{"ignored workspace_id", "entity_tool", `{"entity_type":"project","operation":"list","workspace_id":"w"}`, "entity_tool", `{"entity_type":"project","operation":"list"}`, ""},
		{"rag_search is query_tool", "entity_tool", `{"entity_type":"requirement","operation":"rag_search","content":"x"}`, "query_tool", `{"query_type":"rag_search","entities":["requirement"],"search_term":"x"}`, ""},
		{"aggregate is query_tool", "entity_tool", `{"entity_type":"requirement","operation":"aggregate"}`, "query_tool", `{"query_type":"aggregate","entities":["requirement"]}`, ""},
		{"unknown", "entity_tool", `{"entity_type":"project","operation":"list","colour":"red","size":1}`, "", "", `unknown parameters "colour", "size" of entity_tool; accepted: batch,`},
		// workspace_tool
		{"type/id", "workspace_tool", `{"operation":"set_context","type":"project","id":"p"}`, "workspace_tool", `{"operation":"set_context","context_type":"project","entity_id":"p"}`, ""},
		{"project_id", "workspace_tool", `{"operation":"set_context","project_id":"p","organization_id":"o"}`, "workspace_tool", `{"operation":"set_context","context_type":"project","entity_id":"p"}`, ""},
		{"organization_id", "workspace_tool", `{"operation":"set_context","organization_id":"o"}`, "workspace_tool", `{"operation":"set_context","context_type":"organization","entity_id":"o"}`, ""},
		{"workspace level", "workspace_tool", `{"operation":"set_context","context_type":"workspace","entity_id":"o"}`, "workspace_tool", `{"operation":"set_context","context_type":"organization","entity_id":"o"}`, ""},
		{"paging and format", "workspace_tool", `{"operation":"list_workspaces","limit":5,"offset":0,"format_type":"raw","include_members":true}`, "workspace_tool", `{"operation":"list_workspaces"}`, ""},
		{"bad format", "workspace_tool", `{"operation":"get_context","format_type":"fancy"}`, "", "", "format_type fancy"},
		// context_tool
		{"context set", "context_tool", `{"operation":"set_context","context_type":"project","context_id":"p"}`, "workspace_tool", `{"operation":"set_context","context_type":"project","entity_id":"p"}`, ""},
		{"context workspace", "context_tool", `{"operation":"set_workspace","workspace_id":"o"}`, "workspace_tool", `{"operation":"set_context","context_type":"organization","entity_id":"o"}`, ""},
		{"context get", "context_tool", `{"operation":"get_session_state"}`, "workspace_tool", `{"operation":"get_context"}`, ""},
		{"context entity_type", "context_tool", `{"operation":"set_context","context_type":"entity_type","context_id":"requirement"}`, "", "", "entity_type and parent contexts"},
		{"context clear", "context_tool", `{"operation":"clear_context"}`, "", "", "clear_context"},
		// relationship_tool
		{"metadata role", "relationship_tool", `{"operation":"update","relationship_type":"member","source":{"type":"organization","id":"o"},"target":{"type":"user","id":"u"},"metadata":{"role":"admin"}}`, "relationship_tool", `{"operation":"update","relationship_type":"member","source":{"type":"organization","id":"o"},"target":{"id":"u"},"link_type":"admin"}`, ""},
		{"super_admin", "relationship_tool", `{"operation":"link","relationship_type":"member","source":{"id":"o"},"target":{"id":"u"},"metadata":{"role":"super_admin"}}`, "relationship_tool", `{"operation":"link","relationship_type":"member","source":{"id":"o"},"target":{"id":"u"},"link_type":"owner"}`, ""},
		{"metadata link_type", "relationship_tool", `{"operation":"link","relationship_type":"trace_link","source":{"type":"requirement","id":"a"},"target":{"type":"requirement","id":"b"},"metadata":{"link_type":"is_related_to","version":2}}`, "relationship_tool", `{"operation":"link","relationship_type":"trace_link","source":{"type":"requirement","id":"a"},"target":{"type":"requirement","id":"b"},"link_type":"relates_to"}`, ""},
		{"child_of", "relationship_tool", `{"operation":"link","relationship_type":"trace_link","source":{"type":"requirement","id":"a"},"target":{"type":"requirement","id":"b"},"link_type":"child_of"}`, "relationship_tool", `{"operation":"link","relationship_type":"trace_link","source":{"type":"requirement","id":"a"},"target":{"type":"requirement","id":"b"},"link_type":"derives_from"}`, ""},
		{"parent_of", "relationship_tool", `{"operation":"link","relationship_type":"trace_link","source":{"type":"requirement","id":"a"},"target":{"type":"requirement","id":"b"},"link_type":"parent_of"}`, "relationship_tool", `{"operation":"link","relationship_type":"trace_link","source":{"type":"requirement","id":"b"},"target":{"type":"requirement","id":"a"},"link_type":"derives_from"}`, ""},
		{"coverage_level and status", "relationship_tool", `{"operation":"link","relationship_type":"requirement_test","source":{"type":"requirement","id":"a"},"target":{"type":"test","id":"b"},"metadata":{"coverage_level":"partial","status":"passed"}}`, "relationship_tool", `{"operation":"link","relationship_type":"requirement_test","source":{"type":"requirement","id":"a"},"target":{"type":"test","id":"b"},"link_type":"partial","status":"passed"}`, ""},
		{"email end", "relationship_tool", `{"operation":"link","relationship_type":"invitation","source":{"type":"organization","id":"o","name":"Acme"},"target":{"type":"email","id":"x@y"}}`, "relationship_tool", `{"operation":"link","relationship_type":"invitation","source":{"type":"organization","id":"o"},"target":{"id":"x@y"}}`, ""},
		{"list options", "relationship_tool", `{"operation":"list","relationship_type":"trace_link","filters":{"link_type":"refines"},"offset":2,"soft_delete":true,"source_context":"o","format_type":"summary"}`, "relationship_tool", `{"operation":"list","relationship_type":"trace_link","link_type":"refines"}`, ""},
		{"other filter", "relationship_tool", `{"operation":"list","relationship_type":"trace_link","filters":{"version":2}}`, "", "", "filters.version"},
		// query_tool
		{"conditions scope", "query_tool", `{"query_type":"search","search_term":"x","conditions":{"project_id":"p","status":"draft"}}`, "query_tool", `{"query_type":"search","search_term":"x","project_id":"p"}`, ""},
		{"filters alias", "query_tool", `{"query_type":"search","search_term":"x","filters":{"document_id":"d"}}`, "query_tool", `{"query_type":"search","search_term":"x","document_id":"d"}`, ""},
		{"entity_types", "query_tool", `{"query_type":"search","search_term":"x","entity_types":["test"]}`, "query_tool", `{"query_type":"search","search_term":"x","entities":["test"]}`, ""},
		{"entities text", "query_tool", `{"query_type":"search","search_term":"x","entities":"test"}`, "query_tool", `{"query_type":"search","search_term":"x","entities":["test"]}`, ""},
		{"hybrid_search", "query_tool", `{"query_type":"hybrid_search","search_term":"x"}`, "query_tool", `{"query_type":"rag_search","search_term":"x","rag_mode":"hybrid"}`, ""},
		{"semantic_search", "query_tool", `{"query_type":"semantic_search","search_term":"x"}`, "query_tool", `{"query_type":"rag_search","search_term":"x","rag_mode":"semantic"}`, ""},
		{"similarity content", "query_tool", `{"query_type":"similarity","entity_type":"requirement","content":"x","exclude_id":"e","similarity_threshold":0.5}`, "query_tool", `{"query_type":"rag_search","entities":["requirement"],"search_term":"x","rag_mode":"semantic"}`, ""},
		{"similarity entity", "query_tool", `{"query_type":"similarity","entity_type":"requirement","entity_id":"r"}`, "query_tool", `{"query_type":"similarity","entity_type":"requirement","entity_id":"r"}`, ""},
		{"rag content", "query_tool", `{"query_type":"rag_search","content":"x"}`, "query_tool", `{"query_type":"rag_search","search_term":"x"}`, ""},
		{"search entity_type", "query_tool", `{"query_type":"search","search_term":"x","entity_type":"test"}`, "query_tool", `{"query_type":"search","search_term":"x","entities":["test"]}`, ""},
		{"search_terms", "query_tool", `{"query_type":"search","search_terms":["a","b"]}`, "query_tool", `{"query_type":"search","search_term":"a b"}`, ""},
		{"ignored", "query_tool", `{"query_type":"aggregate","projections":["x"],"aggregate_type":"count","keyword_weight":0.3,"semantic_weight":0.7,"operator":"AND","exclude_terms":["z"],"workspace_id":"w"}`, "query_tool", `{"query_type":"aggregate"}`, ""},
		{"raw format", "query_tool", `{"query_type":"search","search_term":"x","format_type":"raw"}`, "query_tool", `{"query_type":"search","search_term":"x","format_type":"detailed"}`, ""},
		// workflow_tool and workflow_execute
		{"new_status", "workflow_tool", `{"workflow":"bulk_status_update","parameters":{"entity_type":"requirement","entity_ids":["a"],"new_status":"approved"},"format_type":"detailed"}`, "workflow_tool", `{"workflow":"bulk_status_update","parameters":{"entity_type":"requirement","entity_ids":["a"],"status":"approved"}}`, ""},
		{"add_creator_as_admin", "workflow_tool", `{"workflow":"setup_project","parameters":{"name":"p","add_creator_as_admin":true}}`, "workflow_tool", `{"workflow":"setup_project","parameters":{"name":"p"}}`, ""},
		{"matrix_name", "workflow_tool", `{"workflow":"setup_test_matrix","parameters":{"project_id":"p","matrix_name":"m"}}`, "workflow_tool", `{"workflow":"setup_test_matrix","parameters":{"project_id":"p"}}`, ""},
		{"onboarding", "workflow_tool", `{"workflow":"organization_onboarding","parameters":{"name":"o","slug":"o","create_starter_project":true}}`, "workflow_tool", `{"workflow":"organization_onboarding","parameters":{"name":"o","project":"Getting Started"}}`, ""},
		{"no starter", "workflow_tool", `{"workflow":"organization_onboarding","parameters":{"name":"o","create_starter_project":false}}`, "workflow_tool", `{"workflow":"organization_onboarding","parameters":{"name":"o"}}`, ""},
		{"execute setup_new_project", "workflow_execute", `{"workflow_name":"setup_new_project","parameters":{"project_name":"p"}}`, "workflow_tool", `{"workflow":"setup_project","parameters":{"name":"p"}}`, ""},
		{"execute bulk_update_status", "workflow_execute", `{"workflow_name":"bulk_update_status","parameters":{"entity_type":"test","entities":["a"],"new_status":"passed"}}`, "workflow_tool", `{"workflow":"bulk_status_update","parameters":{"entity_type":"test","entity_ids":["a"],"status":"passed"}}`, ""},
		{"execute create_organization_structure", "workflow_execute", `{"workflow_name":"create_organization_structure","parameters":{"organization_name":"o"}}`, "workflow_tool", `{"workflow":"organization_onboarding","parameters":{"name":"o"}}`, ""},
		{"health", "health_check", `{"format_type":"detailed"}`, "health_check", `{}`, ""},
		{"health extra", "health_check", `{"verbose":true}`, "", "", `unknown parameter "verbose" of health_check`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := normaliseCall(tc.tool, json.RawMessage(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v; want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			if c.tool != tc.wantTool || !reflect.DeepEqual(c.args, want) {
				got, _ := json.Marshal(c.args)
				t.Errorf("%s %s\n got %s %s\nwant %s %s", tc.tool, tc.in, c.tool, got, tc.wantTool, tc.want)
			}
		})
	}
}

// TestNormaliseExtras: the options with no atomcp argument reach the
// handler.
func TestNormaliseExtras(t *testing.T) {
	c, err := normaliseCall("query_tool", json.RawMessage(`{"query_type":"rag_search","search_term":"x","similarity_threshold":"0.25","exclude_id":"e","conditions":{"status":"draft"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.extras.minScore == nil || *c.extras.minScore != 0.25 || c.extras.excludeID != "e" || c.extras.conditions["status"] != "draft" {
		t.Errorf("extras %+v", c.extras)
	}
	c, err = normaliseCall("entity_tool", json.RawMessage(`{"entity_type":"project","entity_id":"x","include_relations":true}`))
	if err != nil || !c.extras.includeRelations {
		t.Errorf("include_relations: %v %+v", err, c.extras)
	}
	c, err = normaliseCall("relationship_tool", json.RawMessage(`{"operation":"list","relationship_type":"member","offset":"3"}`))
	if err != nil || c.extras.offset != 3 {
		t.Errorf("offset: %v %+v", err, c.extras)
	}
}
