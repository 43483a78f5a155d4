export const RESULTS: string;
export const START: string;
export const END: string;
export function rows(): [what: string, result: string, criteria: string, file: string, reproduce: string][];
export function render(): string;
export function readmeTable(readme?: string): string | null;
