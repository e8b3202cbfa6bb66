import { resolveApp } from '../apps.ts';
import { defineCommand, JSON_OPTION } from '../command.ts';
import { UsageError } from '../output.ts';

const DEFAULT_TTL_S = 3600;
const USAGE = 'auth token [app] --sub <subject> [--email <address>] [--ttl <seconds>] [--json]';

export const authCommand = defineCommand({
  name: 'auth',
  summary: "token: print a token from the app's development issuer, to call a jwt app as one of its users",
  usage: USAGE,
  options: {
    ...JSON_OPTION,
    sub: { type: 'string', description: "the token's subject: the user's clerk_user_id, cognito_sub, ..." },
    email: {
      type: 'string',
      description: 'a verified email claim too (apps that match users by Google account email)',
    },
    ttl: { type: 'string', description: `seconds the token stays valid (default ${DEFAULT_TTL_S})` },
  },
  examples: [
    'groundwork auth token delight --sub user_2abc   # then: curl -H "Authorization: Bearer <token>" ...',
    'groundwork auth token mail-agent --sub 1234 --email ada@example.com',
  ],
  async run({ values, positionals }, out) {
    if (positionals[0] !== 'token') throw new UsageError(`usage: groundwork ${USAGE}`);
    const { sub, email } = values;
    if (!sub) throw new UsageError('--sub <subject> is required');
    const ttl = values.ttl === undefined ? DEFAULT_TTL_S : Number(values.ttl);
    if (!Number.isInteger(ttl) || ttl < 1) throw new UsageError('--ttl must be a whole number of seconds');
    const app = await resolveApp(positionals[1]);
    if (app.auth.kind !== 'jwt') {
      throw new UsageError(
        app.auth.kind === 'password'
          ? `${app.name} logs users in with passwords: POST /api/v1/auth/login returns a token`
          : `${app.name} has no user tokens; call it with an operator key (ADMIN_API_KEYS)`,
      );
    }
    const [{ appSettings }, { loadDevIssuer }] = await Promise.all([
      import('../../runtime.ts'),
      import('../../auth/dev-issuer.ts'),
    ]);
    const { settings } = appSettings(app);
    if (settings.nodeEnv === 'production' || settings.auth.jwt) {
      throw new UsageError(
        `${app.name} verifies tokens from ${settings.auth.jwt?.issuer ?? 'its issuer'} here (NODE_ENV=${settings.nodeEnv}); the development issuer is for development without AUTH_ISSUER`,
      );
    }
    const issuer = await loadDevIssuer(app.name, settings.dataDir);
    const token = await issuer.sign(sub, {
      ttlSeconds: ttl,
      claims: email ? { email, email_verified: true } : {},
    });
    const expiresAt = new Date(Date.now() + ttl * 1000).toISOString();
    out.result({ token, issuer: issuer.issuer, audience: issuer.audience, expires_at: expiresAt }, token);
    return 0;
  },
});
