import plurals from 'irregular-plurals';
import { stemmer as porter } from 'stemmer';

/**
 * English nouns whose singular and plural a Porter stem never joins (irregular-plurals, Sindre Sorhus'
 * list): each form to the other ("child" ↔ children, "person" ↔ people, "mouse" ↔ mice, "status" ↔
 * statuses, which Porter cuts to "statu" and "status"). A question asks "Does she have children?" where
 * a memory says "her child"; the other form becomes an alternative of the query word's clause, as an
 * irregular verb's forms do. Pairs the stemmer already joins (sheep, deer, "analysis"…) are left out:
 * their word finds the other already. A chunk of its own, loaded with the English analyzer.
 */
export function irregularNounForms(): Map<string, string> {
  const forms = new Map<string, string>();
  for (const [singular, plural] of plurals) {
    // Two-word and accented entries ("faux pas", "château") never reach a lookup: words are split and folded first.
    if (!/^[a-z]+$/.test(singular) || !/^[a-z]+$/.test(plural)) continue;
    if (porter(singular) === porter(plural)) continue;
    forms.set(singular, plural);
    forms.set(plural, singular);
  }
  return forms;
}
