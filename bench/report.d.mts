export interface ReportContext {
  date: string;
  commit: string;
  machine: string;
  cores: number;
  node: string;
  chromium?: string;
  postgres?: string;
  modules: string[];
  seconds: number;
  /** [part, seconds] pairs: what each part of the run took, in the order they ran. */
  took?: Array<[string, number]>;
  load: number[];
  settings: string[];
  large?: unknown;
  chart?: string;
}
export function renderMarkdown(rows: object[], context: ReportContext): string;
/** A row's target as the table shows it, or null for a row without one. */
export function targetOf(row: object): { text: string; met: boolean; ratio: number } | null;
