import { stemmer } from '@orama/stemmers/italian';
import { stopwords } from '@orama/stopwords/italian';
import { createAnalyzer } from './snowball.js';

export const analyzer = createAnalyzer('italian', stemmer, stopwords);
