import { stemmer } from '@orama/stemmers/dutch';
import { stopwords } from '@orama/stopwords/dutch';
import { createAnalyzer } from './snowball.js';

export const analyzer = createAnalyzer('dutch', stemmer, stopwords);
