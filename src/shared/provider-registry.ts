/** Named providers of one kind (payment providers, payout providers), each name registered once. */
export class ProviderRegistry<P extends { readonly name: string }> {
  private readonly byName = new Map<string, P>();

  constructor(
    /** What kind of provider, for the error of a name registered twice: `payment`, `payout`. */
    private readonly kind: string,
    providers: P[] = [],
  ) {
    for (const provider of providers) this.register(provider);
  }

  register(provider: P): void {
    if (this.byName.has(provider.name)) throw new Error(`A ${this.kind} provider named "${provider.name}" is registered twice; expected one.`);
    this.byName.set(provider.name, provider);
  }

  get(name: string): P | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
