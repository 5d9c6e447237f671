/*
 * messages.h - every message a user of gitgate can see, in one place.
 *
 * Code and tests both include this header, so a test cannot drift from what
 * the programs print.  The texts follow GitLab's wording where GitLab has one
 * (see ../shared/SPEC.md); change them only together with the SPEC.
 */
#ifndef GG_MESSAGES_H
#define GG_MESSAGES_H

/* Maintenance mode */
#define GG_MSG_MAINTENANCE_PUSH                                                                    \
	"Git push is not allowed because this GitLab instance is currently in (read-only) "        \
	"maintenance mode."
#define GG_MSG_READ_ONLY "You cannot perform write operations on a read-only instance"
#define GG_MSG_MAINTENANCE_BANNER                                                                  \
	"This GitLab instance is undergoing maintenance and is operating in read-only mode."
#define GG_MSG_GEO_SECONDARY_PUSH "You can't push code to a read-only GitLab instance."
#define GG_MSG_GEO_SECONDARY_BANNER                                                                \
	"You are on a secondary, read-only Geo site. If you want to make changes, you must visit " \
	"the primary site."
#define GG_MSG_PROJECT_READ_ONLY "The repository is temporarily read-only. Please try again later."

/* Access */
#define GG_MSG_PROJECT_NOT_FOUND                                                                   \
	"The project you were looking for could not be found or you don't have permission to "     \
	"view it."
#define GG_MSG_ACCOUNT_BLOCKED	  "Your account has been blocked."
#define GG_MSG_NO_PUSH_ACCESS	  "You are not allowed to push code to this project."
#define GG_MSG_NO_DOWNLOAD_ACCESS "You are not allowed to download code from this project."
#define GG_MSG_DEPLOY_KEY_PUSH	  "This deploy key does not have write access to this project."
#define GG_MSG_PROTECTED_BRANCH                                                                    \
	"You are not allowed to push code to protected branches on this project."
#define GG_MSG_PROTECTED_BRANCH_FMT                                                                \
	"You are not allowed to push code to protected branches on this project. (branch: %s)"
#define GG_MSG_UNKNOWN_KEY    "The key you are authenticating with has not been registered."
#define GG_MSG_UNKNOWN_USER   "The user you are authenticating with could not be found."
#define GG_MSG_UNKNOWN_ACTION "Unknown action"

/* HTTP API */
#define GG_MSG_UNAUTHORIZED	   "401 Unauthorized"
#define GG_MSG_FORBIDDEN	   "403 Forbidden"
#define GG_MSG_NOT_FOUND	   "404 Not Found"
#define GG_MSG_BAD_REQUEST	   "400 Bad request"
#define GG_MSG_TOO_LARGE	   "413 Request Entity Too Large"
#define GG_MSG_INTERNAL_ERROR	   "500 Internal Server Error"
#define GG_MSG_INVALID_CREDENTIALS "Invalid login or password."
#define GG_MSG_SIGNED_IN	   "Signed in successfully."
#define GG_MSG_SIGNED_OUT	   "Signed out successfully."
#define GG_MSG_TOO_MANY_SIGN_INS   "Too many failed sign-in attempts. Please try again later."
#define GG_MSG_STORE_BUSY	   "503 Service Unavailable: the database is busy. Please try again later."

/* SSH front-end */
#define GG_MSG_DISALLOWED_COMMAND     "Disallowed command"
#define GG_MSG_API_UNREACHABLE	      "Internal API unreachable"
#define GG_MSG_ONLY_SSH		      "Only SSH allowed"
#define GG_MSG_WELCOME_FMT	      "Welcome to GitLab, @%s!"
#define GG_MSG_WELCOME_ANONYMOUS      "Welcome to GitLab, Anonymous!"
#define GG_MSG_TOO_MANY_SESSIONS      "Too many concurrent sessions. Please try again later."
#define GG_MSG_TOO_MANY_AUTH_FAILURES "Too many authentication failures"
#define GG_MSG_REPOSITORY_UNAVAILABLE "The repository is not available. Please try again later."

/* REST API, sessions and GraphQL (GitLab's wording) */
#define GG_MSG_USER_NOT_FOUND		   "404 User Not Found"
#define GG_MSG_PROJECT_NOT_FOUND_API	   "404 Project Not Found"
#define GG_MSG_KEY_NOT_FOUND		   "404 Key Not Found"
#define GG_MSG_MEMBER_NOT_FOUND		   "404 Member Not Found"
#define GG_MSG_TOKEN_NOT_FOUND		   "404 Personal Access Token Not Found"
#define GG_MSG_BRANCH_NOT_FOUND		   "404 Not found"
#define GG_MSG_ACCEPTED			   "202 Accepted"
#define GG_MSG_METHOD_NOT_ALLOWED	   "405 Method Not Allowed"
#define GG_MSG_MEMBER_EXISTS		   "Member already exists"
#define GG_MSG_USERNAME_TAKEN		   "Username has already been taken"
#define GG_MSG_EMAIL_TAKEN		   "Email has already been taken"
#define GG_MSG_FIELD_INVALID		   "is invalid"
#define GG_MSG_FIELD_TAKEN		   "has already been taken"
#define GG_MSG_PASSWORD_TOO_SHORT	   "is too short (minimum is 8 characters)"
#define GG_MSG_PROTECTED_BRANCH_EXISTS_FMT "Protected branch '%s' already exists"
#define GG_MSG_REPOSITORY_CREATE_FAILED	   "Failed to create repository"
#define GG_MSG_OAUTH_INVALID_GRANT                                                                 \
	"The provided authorization grant is invalid, expired, revoked, does not match the "       \
	"redirection URI used in the authorization request, or was issued to another client."
#define GG_MSG_OAUTH_UNSUPPORTED_GRANT                                                             \
	"The authorization grant type is not supported by the authorization server."
#define GG_MSG_INSUFFICIENT_SCOPE                                                                  \
	"The request requires higher privileges than provided by the access token."
#define GG_MSG_OAUTH_MISSING_PARAM_FMT "Missing required parameter: %s."
#define GG_MSG_GRAPHQL_NO_PERMISSION                                                               \
	"The resource that you are attempting to access does not exist or you don't have "         \
	"permission to perform this action"
#define GG_MSG_GRAPHQL_NO_QUERY	    "No query string was present"
#define GG_MSG_GRAPHQL_GET_MUTATION "Mutations are forbidden via GET requests"

/* Pushes over a limit (receive-pack; git's own wording where git has one) */
#define GG_MSG_PACK_TOO_LARGE	     "pack exceeds maximum allowed size"
#define GG_MSG_PACK_TOO_MANY_OBJECTS "pack exceeds maximum allowed number of objects"
#define GG_MSG_OBJECT_TOO_LARGE	     "object exceeds maximum allowed size"
#define GG_MSG_TOO_MANY_PUSH_OPTIONS "too many push options"
#define GG_MSG_PUSH_OPTION_TOO_LONG  "push option too long"
#define GG_MSG_REFNAME_TOO_LONG	     "refname too long"
#define GG_MSG_TOO_MANY_COMMANDS     "too many ref updates in one push"
#define GG_MSG_NUL_IN_COMMAND	     "protocol error: NUL byte in command"
#define GG_MSG_NUL_IN_PUSH_OPTION    "protocol error: NUL byte in push option"

/* Scheduled maintenance windows and drain (SPEC §7; gatectl maintenance) */
#define GG_MSG_MAINTENANCE_NOTICE_FMT "Maintenance begins at %s for %s."
#define GG_MSG_DRAIN_TIMEOUT_FMT      "%zu write(s) still in flight after %s; maintenance mode is on."

#endif
