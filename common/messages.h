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
	"Git push is not allowed because this GitLab instance is currently in (read-only) "       \
	"maintenance mode."
#define GG_MSG_READ_ONLY "You cannot perform write operations on a read-only instance"
#define GG_MSG_MAINTENANCE_BANNER                                                                  \
	"This GitLab instance is undergoing maintenance and is operating in read-only mode."
#define GG_MSG_GEO_SECONDARY_PUSH "You can't push code to a read-only GitLab instance."
#define GG_MSG_PROJECT_READ_ONLY "The repository is temporarily read-only. Please try again later."

/* Access */
#define GG_MSG_PROJECT_NOT_FOUND                                                                   \
	"The project you were looking for could not be found or you don't have permission to "   \
	"view it."
#define GG_MSG_ACCOUNT_BLOCKED "Your account has been blocked."
#define GG_MSG_NO_PUSH_ACCESS "You are not allowed to push code to this project."
#define GG_MSG_NO_DOWNLOAD_ACCESS "You are not allowed to download code from this project."
#define GG_MSG_DEPLOY_KEY_PUSH "This deploy key does not have write access to this project."
#define GG_MSG_PROTECTED_BRANCH "You are not allowed to push code to protected branches on this project."
#define GG_MSG_PROTECTED_BRANCH_FMT                                                                \
	"You are not allowed to push code to protected branches on this project. (branch: %s)"
#define GG_MSG_UNKNOWN_KEY "The key you are authenticating with has not been registered."
#define GG_MSG_UNKNOWN_USER "The user you are authenticating with could not be found."
#define GG_MSG_UNKNOWN_ACTION "Unknown action"

/* HTTP API */
#define GG_MSG_UNAUTHORIZED "401 Unauthorized"
#define GG_MSG_FORBIDDEN "403 Forbidden"
#define GG_MSG_NOT_FOUND "404 Not Found"
#define GG_MSG_BAD_REQUEST "400 Bad request"
#define GG_MSG_INVALID_CREDENTIALS "Invalid login or password."
#define GG_MSG_SIGNED_IN "Signed in successfully."
#define GG_MSG_SIGNED_OUT "Signed out successfully."

/* SSH front-end */
#define GG_MSG_DISALLOWED_COMMAND "Disallowed command"
#define GG_MSG_API_UNREACHABLE "Internal API unreachable"
#define GG_MSG_ONLY_SSH "Only SSH allowed"
#define GG_MSG_WELCOME_FMT "Welcome to GitLab, @%s!"

#endif
