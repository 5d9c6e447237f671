/*
 * graphql_schema.c - gitgate's GraphQL schema: its types, and the resolvers
 * that answer their fields from the store (graphql_schema.h).
 *
 * Values are the REST API's JSON objects (rest.h), so a project or a user
 * has the same values whichever API asks, and most fields are a json_key of
 * their parent.  Resolvers apply the same rules as the REST API: what cannot
 * be read is null, a mutation the caller may not make is GitLab's "does not
 * exist or you don't have permission" error, and creating a project goes
 * through gg_rest_project_create().  Maintenance mode never reaches this file:
 * graphql.c refuses every mutation before validating it.
 *
 *   query {
 *     currentUser: UserCore                    (null when anonymous)
 *     user(id: ID, username: String): UserCore (signed-in callers)
 *     project(fullPath: ID!): Project          (null when not readable)
 *     projects(search: String, membership: Boolean, first: Int): ProjectConnection
 *     maintenanceMode: MaintenanceMode
 *     metadata: Metadata                       (signed-in callers)
 *   }
 *   mutation {
 *     projectCreate(input: ProjectCreateInput!): ProjectCreatePayload
 *     updateMaintenanceMode(enabled: Boolean, message: String,
 *                           input: UpdateMaintenanceModeInput): UpdateMaintenanceModePayload
 *   }
 *   UserCore { id username name state isAdmin webUrl avatarUrl createdAt }
 *   Project { id fullPath name nameWithNamespace path visibility readOnly readOnlyMessage
 *             defaultBranch webUrl sshUrlToRepo httpUrlToRepo createdAt archived }
 *   ProjectConnection { nodes count }   MaintenanceMode { enabled message updatedAt }
 *   Metadata { version revision }
 *   ProjectCreatePayload { project errors clientMutationId }
 *   UpdateMaintenanceModePayload { maintenanceMode errors clientMutationId }
 *   ProjectCreateInput { name path namespacePath visibility defaultBranch description
 *                        clientMutationId }
 *   UpdateMaintenanceModeInput { enabled message clientMutationId }
 *
 * GitLab has no mutation that creates a project; gitgate names its own
 * projectCreate, after GitLab's <noun><Verb> convention (issueCreate, ...).
 * updateMaintenanceMode is gitgate's too (GitLab switches maintenance only
 * through the settings API and the admin page).
 */
#include "graphql_schema.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access.h"
#include "log.h"
#include "messages.h"
#include "rest.h"

#define PROJECTS_MAX 100

/* ---- input types ---- */

static const struct gg_gql_arg_def project_create_input[] = {
    {"name", "String"},
    {"path", "String"},
    {"namespacePath", "ID"},
    {"visibility", "VisibilityLevelsEnum"},
    {"defaultBranch", "String"},
    {"description", "String"},
    {"clientMutationId", "String"},
    {NULL, NULL},
};

static const struct gg_gql_arg_def maintenance_input[] = {
    {"enabled", "Boolean!"},
    {"message", "String"},
    {"clientMutationId", "String"},
    {NULL, NULL},
};

static bool valid_visibility(const cJSON *v)
{
	enum gg_visibility vis;

	return cJSON_IsString(v) && gg_rest_visibility_parse(v->valuestring, &vis);
}

static const struct gg_gql_input_type input_types[] = {
    {"VisibilityLevelsEnum", NULL, valid_visibility},
    {"ProjectCreateInput", project_create_input, NULL},
    {"UpdateMaintenanceModeInput", maintenance_input, NULL},
};

const struct gg_gql_input_type *gg_gql_input_type(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(input_types) / sizeof(input_types[0]); i++)
		if (strlen(input_types[i].name) == len &&
		    strncmp(input_types[i].name, name, len) == 0)
			return &input_types[i];
	return NULL;
}

/* ---- helpers ---- */

static const char *json_string(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const struct gg_gql_type_def user_type, project_type, project_connection_type,
    maintenance_type, metadata_type, project_create_payload_type, maintenance_payload_type;

/* -- Query -- */

static cJSON *resolve_current_user(struct gg_gql_exec *ex, const cJSON *parent,
				   const struct gg_gql_selection *sel,
				   const struct gg_gql_field_def *f, const cJSON *args)
{
	if (!gg_gql_request(ex)->user)
		return cJSON_CreateNull();
	return gg_gql_complete_owned(
	    ex, &user_type, gg_rest_user_json(gg_gql_request(ex), gg_gql_request(ex)->user), sel);
}

/* "gid://gitlab/User/12" or "12" as 12; 0 when neither. */
static int64_t parse_gid(const cJSON *v, const char *type)
{
	char prefix[64];
	const char *s;
	int64_t id = 0;

	if (cJSON_IsNumber(v))
		return v->valuedouble >= 1 && v->valuedouble < 9e15 ? (int64_t)v->valuedouble : 0;
	if (!cJSON_IsString(v))
		return 0;
	s = v->valuestring;
	snprintf(prefix, sizeof(prefix), "gid://gitlab/%s/", type);
	if (strncmp(s, prefix, strlen(prefix)) == 0)
		s += strlen(prefix);
	return gg_rest_parse_id(s, &id) ? id : 0;
}

static cJSON *resolve_user(struct gg_gql_exec *ex, const cJSON *parent,
			   const struct gg_gql_selection *sel, const struct gg_gql_field_def *f,
			   const cJSON *args)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(args, "id");
	const char *username = json_string(args, "username");
	struct gg_user u;
	int rc;

	if (!gg_gql_request(ex)->user)
		return cJSON_CreateNull();
	if (id && !cJSON_IsNull(id))
		rc = gg_store_user_get(gg_gql_request(ex)->store, parse_gid(id, "User"), &u);
	else if (username)
		rc = gg_store_user_get_by_username(gg_gql_request(ex)->store, username, &u);
	else
		return gg_gql_field_error(ex, sel, "One of 'id' or 'username' should be provided");
	if (rc != GG_OK)
		return cJSON_CreateNull();
	return gg_gql_complete_owned(ex, &user_type, gg_rest_user_json(gg_gql_request(ex), &u),
				     sel);
}

static cJSON *resolve_project(struct gg_gql_exec *ex, const cJSON *parent,
			      const struct gg_gql_selection *sel, const struct gg_gql_field_def *f,
			      const cJSON *args)
{
	const char *path = json_string(args, "fullPath");
	struct gg_project *p = malloc(sizeof(*p));
	cJSON *out;

	if (!p)
		return NULL;
	if (path && strchr(path, '/') &&
	    gg_rest_project_lookup(gg_gql_request(ex), path, p) == GG_OK)
		out = gg_gql_complete_owned(ex, &project_type,
					    gg_rest_project_json(gg_gql_request(ex), p), sel);
	else
		out = cJSON_CreateNull();
	free(p);
	return out;
}

static cJSON *resolve_projects(struct gg_gql_exec *ex, const cJSON *parent,
			       const struct gg_gql_selection *sel, const struct gg_gql_field_def *f,
			       const cJSON *args)
{
	const char *search = json_string(args, "search");
	const cJSON *first = cJSON_GetObjectItemCaseSensitive(args, "first");
	bool membership = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, "membership"));
	struct gg_http_request *req = gg_gql_request(ex);
	struct gg_project *projects = NULL;
	size_t n = 0, count = 0, limit = PROJECTS_MAX;
	cJSON *conn, *nodes;

	if (cJSON_IsNumber(first)) {
		if (first->valuedouble < 0)
			return gg_gql_field_error(ex, sel, "first must be 0 or greater");
		if (first->valuedouble < PROJECTS_MAX)
			limit = (size_t)first->valuedouble;
	}
	if (gg_store_project_list(req->store, &projects, &n) != GG_OK)
		return gg_gql_field_error(ex, sel, "%s", GG_MSG_INTERNAL_ERROR);
	conn = cJSON_CreateObject();
	nodes = cJSON_AddArrayToObject(conn, "nodes");
	for (size_t i = 0; nodes && i < n; i++) {
		const struct gg_project *p = &projects[i];
		int level = GG_ACCESS_NONE;

		if (!gg_access_can_read(req->store, req->user, p))
			continue;
		if (search && !strcasestr(p->full_path, search))
			continue;
		if (membership &&
		    (!req->user ||
		     gg_store_member_get_level(req->store, p->id, req->user->id, &level) != GG_OK ||
		     level == GG_ACCESS_NONE))
			continue;
		if (count++ < limit)
			cJSON_AddItemToArray(nodes, gg_rest_project_json(req, p));
	}
	cJSON_AddNumberToObject(conn, "count", (double)count);
	free(projects);
	return gg_gql_complete_owned(ex, &project_connection_type, conn, sel);
}

static cJSON *resolve_maintenance_mode(struct gg_gql_exec *ex, const cJSON *parent,
				       const struct gg_gql_selection *sel,
				       const struct gg_gql_field_def *f, const cJSON *args)
{
	struct gg_settings *s = malloc(sizeof(*s));
	cJSON *out;

	if (!s)
		return NULL;
	if (gg_store_settings_get(gg_gql_request(ex)->store, s) == GG_OK)
		out = gg_gql_complete_owned(ex, &maintenance_type, gg_rest_settings_json(s), sel);
	else
		out = gg_gql_field_error(ex, sel, "%s", GG_MSG_INTERNAL_ERROR);
	free(s);
	return out;
}

static cJSON *resolve_metadata(struct gg_gql_exec *ex, const cJSON *parent,
			       const struct gg_gql_selection *sel, const struct gg_gql_field_def *f,
			       const cJSON *args)
{
	cJSON *o;

	if (!gg_gql_request(ex)->user)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "version", GG_VERSION);
	cJSON_AddStringToObject(o, "revision", GG_REVISION);
	return gg_gql_complete_owned(ex, &metadata_type, o, sel);
}

/* -- Mutation -- */

static void add_client_mutation_id(cJSON *payload, const cJSON *input)
{
	const char *id = json_string(input, "clientMutationId");

	if (id)
		cJSON_AddStringToObject(payload, "clientMutationId", id);
	else
		cJSON_AddNullToObject(payload, "clientMutationId");
}

static cJSON *resolve_project_create(struct gg_gql_exec *ex, const cJSON *parent,
				     const struct gg_gql_selection *sel,
				     const struct gg_gql_field_def *f, const cJSON *args)
{
	const cJSON *input = cJSON_GetObjectItemCaseSensitive(args, "input");
	struct gg_rest_project_params in = {0};
	struct gg_rest_error err = {0};
	struct gg_project *p;
	char sentence[320];
	cJSON *payload, *errors;

	if (!gg_gql_request(ex)->user || !gg_rest_token_may_write(gg_gql_request(ex)))
		return gg_gql_field_error(ex, sel, "%s", GG_MSG_GRAPHQL_NO_PERMISSION);
	p = malloc(sizeof(*p));
	payload = cJSON_CreateObject();
	errors = cJSON_CreateArray();
	if (!p || !payload || !errors) {
		free(p);
		cJSON_Delete(payload);
		cJSON_Delete(errors);
		return NULL;
	}
	in.name = json_string(input, "name");
	in.path = json_string(input, "path");
	in.namespace_path = json_string(input, "namespacePath");
	in.visibility = json_string(input, "visibility");
	in.default_branch = json_string(input, "defaultBranch");
	if (gg_rest_project_create(gg_gql_request(ex), &in, p, &err) == 0) {
		cJSON_AddItemToObject(payload, "project",
				      gg_rest_project_json(gg_gql_request(ex), p));
	} else if (err.status == 403) {
		free(p);
		cJSON_Delete(payload);
		cJSON_Delete(errors);
		return gg_gql_field_error(ex, sel, "%s", GG_MSG_GRAPHQL_NO_PERMISSION);
	} else {
		gg_rest_error_sentence(&err, sentence, sizeof(sentence));
		cJSON_AddItemToArray(errors, cJSON_CreateString(sentence));
		cJSON_AddNullToObject(payload, "project");
	}
	cJSON_AddItemToObject(payload, "errors", errors);
	add_client_mutation_id(payload, input);
	free(p);
	return gg_gql_complete_owned(ex, &project_create_payload_type, payload, sel);
}

static cJSON *resolve_update_maintenance(struct gg_gql_exec *ex, const cJSON *parent,
					 const struct gg_gql_selection *sel,
					 const struct gg_gql_field_def *f, const cJSON *args)
{
	const cJSON *input = cJSON_GetObjectItemCaseSensitive(args, "input");
	const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(args, "enabled");
	const cJSON *message = cJSON_GetObjectItemCaseSensitive(args, "message");
	struct gg_http_request *req = gg_gql_request(ex);
	struct gg_settings *s;
	cJSON *payload, *errors, *out;
	int rc;

	if (!req->user || !req->user->admin || !gg_rest_token_may_write(req))
		return gg_gql_field_error(ex, sel, "%s", GG_MSG_GRAPHQL_NO_PERMISSION);
	if (cJSON_IsObject(input)) {
		if (!enabled)
			enabled = cJSON_GetObjectItemCaseSensitive(input, "enabled");
		if (!message)
			message = cJSON_GetObjectItemCaseSensitive(input, "message");
	}
	if (!cJSON_IsBool(enabled))
		return gg_gql_field_error(
		    ex, sel,
		    "Field 'updateMaintenanceMode' is missing required arguments: "
		    "enabled");
	s = malloc(sizeof(*s));
	payload = cJSON_CreateObject();
	errors = cJSON_AddArrayToObject(payload, "errors");
	if (!s || !errors) {
		free(s);
		cJSON_Delete(payload);
		return NULL;
	}
	rc = gg_store_settings_get(req->store, s);
	if (rc == GG_OK) {
		s->maintenance_mode = cJSON_IsTrue(enabled);
		if (cJSON_IsNull(message))
			s->maintenance_mode_message[0] = '\0';
		else if (cJSON_IsString(message) &&
			 !gg_rest_copy(s->maintenance_mode_message,
				       sizeof(s->maintenance_mode_message), message->valuestring))
			rc = GG_EINVALID;
	}
	if (rc == GG_OK)
		rc = gg_store_settings_update(req->store, s, req->user->id, req->user->username);
	if (rc == GG_OK)
		rc = gg_store_settings_get(req->store, s);
	if (rc == GG_EINVALID) {
		cJSON_AddItemToArray(errors, cJSON_CreateString("Message is invalid"));
		cJSON_AddNullToObject(payload, "maintenanceMode");
	} else if (rc != GG_OK) {
		gg_error("updateMaintenanceMode: %s", gg_store_errmsg(req->store));
		free(s);
		cJSON_Delete(payload);
		return gg_gql_field_error(ex, sel, "%s", GG_MSG_INTERNAL_ERROR);
	} else {
		gg_info("maintenance mode %s by %s (GraphQL)", s->maintenance_mode ? "on" : "off",
			req->user->username);
		cJSON_AddItemToObject(payload, "maintenanceMode", gg_rest_settings_json(s));
	}
	add_client_mutation_id(payload, input);
	out = gg_gql_complete_owned(ex, &maintenance_payload_type, payload, sel);
	free(s);
	return out;
}

/* -- the types -- */

static const struct gg_gql_arg_def no_args[] = {{NULL, NULL}};
static const struct gg_gql_arg_def user_args[] = {
    {"id", "ID"}, {"username", "String"}, {NULL, NULL}};
static const struct gg_gql_arg_def project_args[] = {{"fullPath", "ID!"}, {NULL, NULL}};
static const struct gg_gql_arg_def projects_args[] = {
    {"search", "String"}, {"membership", "Boolean"}, {"first", "Int"}, {NULL, NULL}};
static const struct gg_gql_arg_def project_create_args[] = {{"input", "ProjectCreateInput!"},
							    {NULL, NULL}};
static const struct gg_gql_arg_def maintenance_args[] = {
    {"enabled", "Boolean"},
    {"message", "String"},
    {"input", "UpdateMaintenanceModeInput"},
    {NULL, NULL},
};

#define KEY(name, type, key)                                                                       \
	{                                                                                          \
		name, type, NULL, no_args, NULL, key, NULL                                         \
	}

static const struct gg_gql_field_def user_fields[] = {
    {"id", "UserID!", NULL, no_args, NULL, "id", "User"},
    KEY("username", "String!", "username"),
    KEY("name", "String!", "name"),
    KEY("state", "UserState!", "state"),
    KEY("isAdmin", "Boolean!", "is_admin"),
    KEY("webUrl", "String!", "web_url"),
    KEY("avatarUrl", "String", "avatar_url"),
    KEY("createdAt", "Time", "created_at"),
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const struct gg_gql_field_def project_fields[] = {
    {"id", "ProjectID!", NULL, no_args, NULL, "id", "Project"},
    KEY("fullPath", "ID!", "path_with_namespace"),
    KEY("name", "String!", "name"),
    KEY("nameWithNamespace", "String!", "name_with_namespace"),
    KEY("path", "String!", "path"),
    KEY("visibility", "String", "visibility"),
    KEY("readOnly", "Boolean!", "read_only"),
    KEY("readOnlyMessage", "String", "read_only_message"),
    KEY("defaultBranch", "String", "default_branch"),
    KEY("webUrl", "String", "web_url"),
    KEY("sshUrlToRepo", "String", "ssh_url_to_repo"),
    KEY("httpUrlToRepo", "String", "http_url_to_repo"),
    KEY("createdAt", "Time", "created_at"),
    KEY("archived", "Boolean", "archived"),
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const struct gg_gql_field_def project_connection_fields[] = {
    {"nodes", "[Project]", &project_type, no_args, NULL, "nodes", NULL},
    KEY("count", "Int!", "count"),
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const struct gg_gql_field_def maintenance_fields[] = {
    KEY("enabled", "Boolean!", "maintenance_mode"),
    KEY("message", "String", "maintenance_mode_message"),
    KEY("updatedAt", "Time", "updated_at"),
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const struct gg_gql_field_def metadata_fields[] = {
    KEY("version", "String!", "version"),
    KEY("revision", "String!", "revision"),
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const struct gg_gql_field_def project_create_payload_fields[] = {
    {"project", "Project", &project_type, no_args, NULL, "project", NULL},
    KEY("errors", "[String!]!", "errors"),
    KEY("clientMutationId", "String", "clientMutationId"),
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const struct gg_gql_field_def maintenance_payload_fields[] = {
    {"maintenanceMode", "MaintenanceMode", &maintenance_type, no_args, NULL, "maintenanceMode",
     NULL},
    KEY("errors", "[String!]!", "errors"),
    KEY("clientMutationId", "String", "clientMutationId"),
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const struct gg_gql_field_def query_fields[] = {
    {"currentUser", "UserCore", &user_type, no_args, resolve_current_user, NULL, NULL},
    {"user", "UserCore", &user_type, user_args, resolve_user, NULL, NULL},
    {"project", "Project", &project_type, project_args, resolve_project, NULL, NULL},
    {"projects", "ProjectConnection", &project_connection_type, projects_args, resolve_projects,
     NULL, NULL},
    {"maintenanceMode", "MaintenanceMode", &maintenance_type, no_args, resolve_maintenance_mode,
     NULL, NULL},
    {"metadata", "Metadata", &metadata_type, no_args, resolve_metadata, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const struct gg_gql_field_def mutation_fields[] = {
    {"projectCreate", "ProjectCreatePayload", &project_create_payload_type, project_create_args,
     resolve_project_create, NULL, NULL},
    {"updateMaintenanceMode", "UpdateMaintenanceModePayload", &maintenance_payload_type,
     maintenance_args, resolve_update_maintenance, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const struct gg_gql_type_def user_type = {"UserCore", user_fields};
static const struct gg_gql_type_def project_type = {"Project", project_fields};
static const struct gg_gql_type_def project_connection_type = {"ProjectConnection",
							       project_connection_fields};
static const struct gg_gql_type_def maintenance_type = {"MaintenanceMode", maintenance_fields};
static const struct gg_gql_type_def metadata_type = {"Metadata", metadata_fields};
static const struct gg_gql_type_def project_create_payload_type = {"ProjectCreatePayload",
								   project_create_payload_fields};
static const struct gg_gql_type_def maintenance_payload_type = {"UpdateMaintenanceModePayload",
								maintenance_payload_fields};
const struct gg_gql_type_def gg_gql_query_type = {"Query", query_fields};
const struct gg_gql_type_def gg_gql_mutation_type = {"Mutation", mutation_fields};

static const struct gg_gql_type_def *const all_types[] = {
    &user_type,
    &project_type,
    &project_connection_type,
    &maintenance_type,
    &metadata_type,
    &project_create_payload_type,
    &maintenance_payload_type,
    &gg_gql_query_type,
    &gg_gql_mutation_type,
};

const struct gg_gql_type_def *gg_gql_type_named(const char *name)
{
	for (size_t i = 0; i < sizeof(all_types) / sizeof(all_types[0]); i++)
		if (strcmp(all_types[i]->name, name) == 0)
			return all_types[i];
	/* GitLab's name of the user type in most places. */
	if (strcmp(name, "User") == 0)
		return &user_type;
	return NULL;
}

bool gg_gql_type_condition_matches(const struct gg_gql_type_def *type, const char *condition)
{
	return !condition || strcmp(condition, type->name) == 0 ||
	       (type == &user_type && strcmp(condition, "User") == 0);
}
