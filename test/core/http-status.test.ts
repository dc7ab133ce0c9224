import { describe, expect, it } from 'vitest';
import { codeOfStatus, ERROR_CODES, HTTP_STATUS } from '../../src/core/errors.js';
import { createEdgeApp } from '../../src/edge/app.js';
import { InMemoryStore } from '../../src/index.js';

describe('one table of HTTP statuses by error code', () => {
  it('reads every 4xx status back as the code the edge sends it for', () => {
    for (const code of ERROR_CODES) {
      const status = HTTP_STATUS[code];
      expect(codeOfStatus(status)).toBe(status < 500 ? code : undefined);
    }
    expect(codeOfStatus(418)).toBeUndefined();
    expect(codeOfStatus(200)).toBeUndefined();
  });

  it('is what the edge answers with', async () => {
    const app = createEdgeApp({ store: new InMemoryStore(), secret: 'status-table-secret', logger: false });
    const response = await app.request('/v1/ns/a/memories');
    expect(response.status).toBe(HTTP_STATUS.UNAUTHORIZED);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
  });
});
