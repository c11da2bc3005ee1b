// The API's password policy (jobrunner_api.security.password_problem), told beside the fields;
// the API checks it and its 422 says why a password is refused.
export const PASSWORD_HINT = "At least 8 characters, not containing the username.";
