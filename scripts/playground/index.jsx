// The playground page's script: GraphiQL against this server's /graphql.
// Queries and mutations go over HTTP; subscriptions over WebSocket
// (graphql-transport-ws) at the same path, opened only when one runs.
import React from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/graphiql.css';

const url = new URL('/graphql', window.location.href);
const subscriptionUrl = new URL(url);
subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';

const fetcher = createGraphiQLFetcher({
  url: url.href,
  subscriptionUrl: subscriptionUrl.href,
});

const defaultQuery = `# ImportOps GraphQL playground.
# Staff requests need a token: under "Headers" add
#   {"Authorization": "Bearer <token>"}
# (scripts/demo prints one). Without one you may
# call login and publicTracking.

query Viewer {
  viewer {
    user { email role }
    organization { name }
  }
}
`;

createRoot(document.getElementById('graphiql')).render(
  <GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} />,
);
