/** The provider contract suite (test/providers/contract-suite.ts) for civo, against its fake. */
import { defineContractSuite } from './contract-suite.js';

defineContractSuite('civo');
