export const NOTES_MARKER: string;
export function notesOf(previous: string | undefined): string | undefined;
export function withNotes(generated: string, previous: string | undefined): string;
export function reportPaths(subset: boolean): { markdown: URL; chart: URL };
