import verbs from 'english-verbs-irregular/dist/verbs.json' with { type: 'json' };

/**
 * The English irregular verbs (RosaeNLG's list, english-verbs-irregular): each base form to its other
 * forms ("go" → gone, went; "find" → found). A Porter stem never joins "went" to "go", so a question
 * ("Where did Sam go?") and the past tense that answers it ("we went…") would otherwise never meet.
 * Only base forms are keys: a question puts its verb in the base form ("did she go"), and a past form
 * or participle in a query ("how have things gone") was not a verb someone did, expanding it cost
 * bench/quality.mjs's multi-hop questions (docs/search.md). A chunk of its own, loaded with the English
 * analyzer (analyzer.ts), so the core bundle does not carry the list.
 */
export function irregularVerbForms(): Map<string, readonly string[]> {
  const forms = new Map<string, readonly string[]>();
  for (const [base, tenses] of Object.entries(verbs as Record<string, string[][]>)) {
    // Hyphenated verbs ("spoon-feed") are split into words before any lookup: none would ever match.
    if (!/^[a-z]+$/.test(base)) continue;
    const others = [...new Set(tenses.flat())].filter((form) => form !== base).sort();
    if (others.length > 0) forms.set(base, others);
  }
  return forms;
}
