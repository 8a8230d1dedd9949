/** comedy resource: the installed games, injected into actors as 'Games'. */
import type { GameCatalog } from '../../actors/ports';
import { processGames } from '../game-catalog';

export default class GamesResource {
  static getName(): string {
    return 'Games';
  }
  getResource(): GameCatalog {
    return processGames();
  }
}
