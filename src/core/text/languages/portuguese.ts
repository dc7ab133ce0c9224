import { stemmer } from '@orama/stemmers/portuguese';
import { stopwords } from '@orama/stopwords/portuguese';
import { createAnalyzer } from './snowball.js';

export const analyzer = createAnalyzer('portuguese', stemmer, stopwords);
