// AWS Amplify Analytics with its Kinesis provider, as its docs configure it (guest access).
import { Amplify } from 'aws-amplify';
import { record as amplifyRecord, flushEvents } from 'aws-amplify/analytics/kinesis';
import { captureMouse } from './common.js';

export function start({ region, streamName, identityPoolId }) {
  Amplify.configure({
    Auth: { Cognito: { identityPoolId, allowGuestAccess: true } },
    Analytics: { Kinesis: { region } },
  });
  const record = (obj, sid) => amplifyRecord({ data: obj, partitionKey: sid, streamName });
  const sid = captureMouse(record);
  return { record: (obj) => record(obj, sid), flush: async () => flushEvents() };
}
