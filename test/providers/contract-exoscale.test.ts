/** The provider contract suite (test/providers/contract-suite.ts) for exoscale, against its fake. */
import { defineContractSuite } from './contract-suite.js';

defineContractSuite('exoscale');
