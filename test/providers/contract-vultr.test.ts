/** The provider contract suite (test/providers/contract-suite.ts) for vultr, against its fake. */
import { defineContractSuite } from './contract-suite.js';

defineContractSuite('vultr');
