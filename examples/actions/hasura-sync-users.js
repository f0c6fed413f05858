const fetch = require('node-fetch')

/**
 * Handler that will be called during the execution of a PostLogin flow.
 *
 * @param {Event} event - Details about the user and the context in which they are logging in.
 * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
 */
exports.onExecutePostLogin = async (event, api) => {
  const userId = event.user.user_id;
  const userName = event.user.username ?? null;

  const admin_secret = "demo-hasura-admin-secret-change-me";
  const url = "http://127.0.0.1:8080/v1/graphql";

  const query = `mutation Auth0SyncUsersAction($userId: String!, $userName: String) {
    insert_users_one(object: {userId: $userId, userName: $userName}, on_conflict: {constraint: users_pkey, update_columns: userName}) {
      userId
      userName
    }
  }
`;

  const variables = { userId, userName };

  const res = await fetch(url,
    {
      method: 'POST',
      body: JSON.stringify({
        query: query,
        variables: variables
      }),
      headers: {
        'content-type' : 'application/json',
        'x-hasura-admin-secret': admin_secret
      }
    });

  console.log("Response", await res.json())

  return res

};
