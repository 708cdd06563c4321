// Amazon CloudWatch RUM's web client (aws-rum-web): AWS's own browser client that signs its
// requests with SigV4 (Cognito guest credentials), configured as its README does. Size only:
// it sends RUM events to the RUM data plane, not records to Kinesis, so it is not timed.
import { AwsRum } from 'aws-rum-web';

export function start({ region, identityPoolId, guestRoleArn, endpoint }) {
  const rum = new AwsRum('00000000-0000-4000-8000-000000000000', '1.0.0', region, {
    sessionSampleRate: 1, identityPoolId, guestRoleArn, endpoint, telemetries: ['performance', 'errors', 'http'], allowCookies: true, enableXRay: false,
  });
  return { record: (obj) => rum.recordEvent('com.example.mouse', obj), flush: async () => rum.dispatch() };
}
