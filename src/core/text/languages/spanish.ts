import { stemmer } from '@orama/stemmers/spanish';
import { stopwords } from '@orama/stopwords/spanish';
import { createAnalyzer } from './snowball.js';

export const analyzer = createAnalyzer('spanish', stemmer, stopwords);
