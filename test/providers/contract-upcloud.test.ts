/** The provider contract suite (test/providers/contract-suite.ts) for upcloud, against its fake. */
import { defineContractSuite } from './contract-suite.js';

defineContractSuite('upcloud');
