/**
 * Values substituted from `${env:NAME}` are secrets until proven otherwise: they are registered
 * here and scrubbed from every log line, error message and report the runtime writes.
 */
export class SecretRedactor {
  private readonly secrets = new Set<string>();

  register(value: string): void {
    // Very short values would redact ordinary words; they are still never logged as config.
    if (value.length >= 4) this.secrets.add(value);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join('***');
    return out;
  }

  get size(): number {
    return this.secrets.size;
  }
}
